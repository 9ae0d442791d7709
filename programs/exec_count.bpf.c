/* Counts exec() calls per command name (the comm after the exec). */
#include "common.h"

struct comm_key {
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct comm_key);
	__type(value, __u64);
} exec_counts SEC(".maps");

/* Every exec on the node, whatever its name. */
__u64 total_execs = 0;

SEC("tracepoint/sched/sched_process_exec")
int count_exec(void *ctx)
{
	struct comm_key key = {};
	__u64 zero = 0, *count;

	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&exec_counts, &key);
	if (!count) {
		/* Two CPUs may race to create the entry: NOEXIST lets one win,
		 * and both then add to the same counter. */
		bpf_map_update_elem(&exec_counts, &key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&exec_counts, &key);
		if (!count)
			return 0;
	}
	__sync_fetch_and_add(count, 1);
	__sync_fetch_and_add(&total_execs, 1);
	return 0;
}

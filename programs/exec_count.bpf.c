/* Counts exec() calls per command name (the comm after the exec).
 * Built twice: exec_count.bpf.o on the tracepoint, and exec_count_raw.bpf.o
 * (-DRAW_TRACEPOINT) on the raw tracepoint of the same event. A tracepoint
 * takes at most 64 BPF programs (the kernel's BPF_TRACE_MAX_PROGS; the 65th
 * attach is E2BIG), a raw tracepoint has no such bound, so the fleet
 * benchmark's 200 local nodes use the raw one. */
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

#ifdef RAW_TRACEPOINT
SEC("raw_tracepoint/sched_process_exec")
#else
SEC("tracepoint/sched/sched_process_exec")
#endif
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

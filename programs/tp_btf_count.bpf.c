/* A BTF-enabled tracepoint (tp_btf): counts exec() calls per command name,
 * as exec_count does through the classic tracepoint, with the typed
 * arguments of sched_process_exec (the task, the old pid, the binprm). */
#include "common.h"

struct comm_key {
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct comm_key);
	__type(value, __u64);
} btf_exec_counts SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(count_exec_btf, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct comm_key key = {};
	__u64 zero = 0, *count;

	bpf_probe_read_kernel_str(&key.comm, sizeof(key.comm), task->comm);
	count = bpf_map_lookup_elem(&btf_exec_counts, &key);
	if (!count) {
		bpf_map_update_elem(&btf_exec_counts, &key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&btf_exec_counts, &key);
		if (!count)
			return 0;
	}
	__sync_fetch_and_add(count, 1);
	return 0;
}

/* A test fixture of sections as public tools write them, for `auto`:
 * a uprobe on a library named the way libbpf searches for it, the
 * libbpf-bootstrap habit of probing the tool itself (/proc/self/exe), a
 * relative binary path, a library no node has, and a tracepoint that no
 * kernel has. */
#include "common.h"

/* 0 counts every process; otherwise only this thread group. Set at load. */
const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} getppid_calls SEC(".maps");

SEC("uprobe/libc.so.6:getppid")
int count_getppid(struct pt_regs *ctx)
{
	__u32 zero = 0;
	__u64 *count;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	count = bpf_map_lookup_elem(&getppid_calls, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

SEC("uprobe//proc/self/exe:uprobed_add")
int probe_self(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe/./build/app:main")
int probe_relative(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe/libbpfleet-nowhere.so.1:f")
int probe_nowhere(struct pt_regs *ctx)
{
	return 0;
}

SEC("tracepoint/sched/bpfleet_no_such_tracepoint")
int on_nothing(void *ctx)
{
	return 0;
}

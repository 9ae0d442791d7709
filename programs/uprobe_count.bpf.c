/* Counts calls of a user-space function (the target names the binary and
 * the symbol or offset), optionally in one process only. */
#include "common.h"

/* 0 counts every process; otherwise only this thread group. Set at load. */
const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} uprobe_calls SEC(".maps");

SEC("uprobe")
int count_call(struct pt_regs *ctx)
{
	__u32 zero = 0;
	__u64 *count;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	count = bpf_map_lookup_elem(&uprobe_calls, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

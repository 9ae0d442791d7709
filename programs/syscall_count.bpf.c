/* Counts system calls by number, optionally for one process only. */
#include "common.h"

/* 0 counts every process; otherwise only this thread group. Set at load. */
const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} syscalls SEC(".maps");

/* The same count, kept per CPU: one value per CPU in typed snapshots. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} total SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int count_syscall(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 nr = (__u32)ctx->args[1];
	__u32 zero = 0;
	__u64 zero_count = 0, *count;

	if (target_tgid && tgid != target_tgid)
		return 0;
	count = bpf_map_lookup_elem(&syscalls, &nr);
	if (!count) {
		bpf_map_update_elem(&syscalls, &nr, &zero_count, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&syscalls, &nr);
		if (!count)
			return 0;
	}
	__sync_fetch_and_add(count, 1);
	count = bpf_map_lookup_elem(&total, &zero);
	if (count)
		*count += 1;
	return 0;
}

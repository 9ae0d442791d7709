/* A test fixture for the crash tests: a counter no other test loads, so
 * that bpftool's list of programs named count_kill is exactly what the
 * crash tests' servers hold. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} kills SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int count_kill(void *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&kills, &zero);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

/* Benchmark fixture: a u32 -> u64 hash map big enough for a million entries. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1048576);
	__type(key, __u32);
	__type(value, __u64);
} big SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int touch(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&big, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

/* A test fixture: an array map of 2^31 u64 values, 16 GiB of kernel memory
 * if the kernel were asked for it. bpfleetd refuses to load it
 * (--max-probe-memory). */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1U << 31);
	__type(key, __u32);
	__type(value, __u64);
} huge SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int touch_huge(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&huge, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

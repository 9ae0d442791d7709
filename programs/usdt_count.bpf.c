/* Counts hits of a USDT probe (the target names the binary, provider and
 * probe name), and sums the probe's first argument. */
#include "common.h"
#include <bpf/usdt.bpf.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} usdt_hits SEC(".maps");

SEC("usdt")
int BPF_USDT(count_usdt, long value)
{
	__u32 zero = 0, one = 1;
	__u64 *count = bpf_map_lookup_elem(&usdt_hits, &zero);
	__u64 *sum = bpf_map_lookup_elem(&usdt_hits, &one);

	if (count)
		__sync_fetch_and_add(count, 1);
	if (sum)
		__sync_fetch_and_add(sum, value);
	return 0;
}

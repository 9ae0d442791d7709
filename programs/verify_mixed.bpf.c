/* A test fixture for probe.verify: one program the verifier accepts and
 * one it refuses, in one object. libbpf stops at the first program the
 * kernel refuses, so a verdict for each takes a second load without it. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int count_ok(void *ctx)
{
	__u32 zero = 0;
	__u64 *value = bpf_map_lookup_elem(&hits, &zero);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int read_past(void *ctx)
{
	__u32 zero = 0;
	__u64 *value = bpf_map_lookup_elem(&hits, &zero);

	/* No null check, and an access 64 bytes past an 8-byte value. */
	return *(value + 8);
}

/* A test fixture the verifier must refuse: it reads past a map value. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int out_of_bounds(void *ctx)
{
	__u32 zero = 0;
	__u64 *value = bpf_map_lookup_elem(&values, &zero);

	/* No null check, and an access 64 bytes past an 8-byte value. */
	return *(value + 8);
}

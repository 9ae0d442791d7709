/* Counts calls of a kernel function through a BPF trampoline (fentry).
 * Kernels without trampolines refuse it: bpfleetd answers -32008 naming
 * "fentry (BPF trampoline)". */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fentry_calls SEC(".maps");

SEC("fentry/do_unlinkat")
int BPF_PROG(count_fentry)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&fentry_calls, &zero);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

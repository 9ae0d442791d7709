/* Counts calls of a kernel function through a kprobe. Kernels without
 * CONFIG_KPROBES have no kprobe event source: bpfleetd answers -32008
 * naming "CONFIG_KPROBES". */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} kprobe_calls SEC(".maps");

SEC("kprobe/do_unlinkat")
int count_kprobe(struct pt_regs *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&kprobe_calls, &zero);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

/* perf_event: counts samples per CPU of whatever event the target names
 * (cpu-clock at a frequency, for instance). */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} samples SEC(".maps");

SEC("perf_event")
int count_sample(struct bpf_perf_event_data *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&samples, &zero);

	if (count)
		*count += 1;
	return 0;
}

/* An iterator over one map's elements (iter/bpf_map_elem), given the map
 * at iter.read: "KEY VALUE" per element of iter_seeded, or of any map of
 * __u32 keys and __u64 values. Some kernels refuse to load it (EPERM). */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} iter_seeded SEC(".maps");

SEC("iter/bpf_map_elem")
int dump_elements(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u32 *key = ctx->key;
	__u64 *value = ctx->value;

	if (!key || !value)
		return 0;
	BPF_SEQ_PRINTF(seq, "%u %llu\n", *key, *value);
	return 0;
}

/* A test fixture loaded by something other than bpfleetd: the node
 * inventory tests load it with a small libbpf program of their own (and
 * with bpftool), and read its map as a map bpfleet does not own. */
#include "common.h"

struct foreign_value {
	__u64 hits;
	__u32 tag;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct foreign_value);
} foreign_counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	__u32 key = 0;
	struct foreign_value *value = bpf_map_lookup_elem(&foreign_counts, &key);

	if (value)
		__sync_fetch_and_add(&value->hits, 1);
	return 0;
}

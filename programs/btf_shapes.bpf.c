/* A test fixture whose BTF the hostile-object tests corrupt: a few types
 * with known names, reachable from its globals and its map (a pair of
 * structs, a self-referencing list node, a pointer to a pointer). */
#include "common.h"

struct shape_leaf {
	__u32 a;
	__u32 b;
};

struct shape_pair {
	struct shape_leaf left;
	struct shape_leaf right;
};

struct shape_node {
	struct shape_node *next;
	__u64 value;
};

struct shape_pair pair_global = {};
struct shape_node node_global = {};
__u64 **pointer_global = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shape_pair);
} shapes SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int touch_shapes(void *ctx)
{
	__u32 zero = 0;
	struct shape_pair *pair = bpf_map_lookup_elem(&shapes, &zero);

	if (pair)
		pair->left.a++;
	pair_global.right.b++;
	node_global.value++;
	return pointer_global != 0;
}

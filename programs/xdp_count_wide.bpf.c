/* XDP: a version of xdp_count whose counter map has two slots: a replace
 * of xdp_count that keeps the map (keepMaps) must refuse it. */
#include "common.h"
#include "net_common.h"

/* The UDP destination port to count (host order). Set at load. */
const volatile __u16 target_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} xdp_packets SEC(".maps");

SEC("xdp")
int count_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0;
	__u64 *count;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (!udp4_to_port(eth + 1, data_end, target_port))
		return XDP_PASS;
	count = bpf_map_lookup_elem(&xdp_packets, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

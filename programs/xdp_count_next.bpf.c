/* XDP: the next version of xdp_count, for replacing it (probe.load with
 * replace): the same program and counter map, and a knob that makes the
 * verifier reject it. */
#include "common.h"
#include "net_common.h"

/* The UDP destination port to count (host order). Set at load. */
const volatile __u16 target_port = 0;
/* Non-zero: read the packet without a bounds check, which the verifier
 * refuses (a replace whose new object fails to load). */
const volatile __u32 reject = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
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

	if (reject)
		return *(__u8 *)data ? XDP_PASS : XDP_DROP;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (!udp4_to_port(eth + 1, data_end, target_port))
		return XDP_PASS;
	count = bpf_map_lookup_elem(&xdp_packets, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

/* XDP: counts IPv4 UDP packets to one port arriving on an interface, and
 * passes every packet on.
 *
 * The Makefile also builds two variants of it for the replace tests:
 * xdp_count_next (-DREJECT_KNOB: the next version of the program, with a
 * knob that makes the verifier refuse it) and xdp_count_wide
 * (-DCOUNTER_SLOTS=2: a counter map of another size, which a replace that
 * keeps the map must refuse). */
#include "common.h"
#include "net_common.h"

/* The UDP destination port to count (host order). Set at load. */
const volatile __u16 target_port = 0;

#ifdef REJECT_KNOB
/* Non-zero: read the packet without a bounds check, which the verifier
 * refuses (a replace whose new object fails to load). */
const volatile __u32 reject = 0;
#endif

#ifndef COUNTER_SLOTS
#define COUNTER_SLOTS 1
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COUNTER_SLOTS);
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

#ifdef REJECT_KNOB
	if (reject)
		return *(__u8 *)data ? XDP_PASS : XDP_DROP;
#endif
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (!udp4_to_port(eth + 1, data_end, target_port))
		return XDP_PASS;
	count = bpf_map_lookup_elem(&xdp_packets, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

/* tc: counts IPv4 UDP packets to one port, [0] entering and [1] leaving
 * an interface (one program per direction), and lets every packet go on
 * (TC_ACT_UNSPEC: the next program or filter decides). */
#include "common.h"
#include "net_common.h"

#define TC_ACT_UNSPEC (-1)

/* The UDP destination port to count (host order). Set at load. */
const volatile __u16 target_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} tc_packets SEC(".maps");

static __always_inline int count(struct __sk_buff *skb, __u32 direction)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u64 *packets;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_UNSPEC;
	if (!udp4_to_port(eth + 1, data_end, target_port))
		return TC_ACT_UNSPEC;
	packets = bpf_map_lookup_elem(&tc_packets, &direction);
	if (packets)
		__sync_fetch_and_add(packets, 1);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int count_tc_ingress(struct __sk_buff *skb)
{
	return count(skb, 0);
}

SEC("tc")
int count_tc_egress(struct __sk_buff *skb)
{
	return count(skb, 1);
}

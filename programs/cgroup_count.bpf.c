/* cgroup programs: `count_egress` (cgroup_skb/egress) counts IPv4 UDP
 * packets to one port leaving the cgroup's processes; `count_sock_create`
 * (cgroup/sock_create) counts the sockets they create. Both allow
 * everything (return 1). */
#include "common.h"
#include "net_common.h"

/* The UDP destination port to count (host order). Set at load. */
const volatile __u16 target_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} cgroup_counts SEC(".maps");  /* [0] packets, [1] sockets */

static __always_inline void add(__u32 index)
{
	__u64 *count = bpf_map_lookup_elem(&cgroup_counts, &index);

	if (count)
		__sync_fetch_and_add(count, 1);
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;

	/* A cgroup_skb program sees the packet from its network header on. */
	if (skb->protocol != bpf_htons(ETH_P_IP) || bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
		return 1;
	if (ip.protocol != IPPROTO_UDP_NUMBER || bpf_skb_load_bytes(skb, ip.ihl * 4, &udp, sizeof(udp)))
		return 1;
	if (udp.dest == bpf_htons(target_port))
		add(0);
	return 1;
}

SEC("cgroup/sock_create")
int count_sock_create(struct bpf_sock *sock)
{
	add(1);
	return 1;
}

/* Packet parsing shared by the network examples: is this an IPv4 UDP
 * datagram to the port a test chose? (vmlinux.h has the structs but not
 * the #define constants.) */
#ifndef BPFLEET_PROGRAMS_NET_COMMON_H
#define BPFLEET_PROGRAMS_NET_COMMON_H
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define IPPROTO_UDP_NUMBER 17

/* data..data_end holds a frame from its IPv4 header on. */
static __always_inline int udp4_to_port(void *data, void *data_end, __u16 port)
{
	struct iphdr *ip = data;
	struct udphdr *udp;

	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->protocol != IPPROTO_UDP_NUMBER)
		return 0;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return 0;
	return udp->dest == bpf_htons(port);
}
#endif

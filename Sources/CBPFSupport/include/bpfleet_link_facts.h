#ifndef BPFLEET_LINK_FACTS_H
#define BPFLEET_LINK_FACTS_H

/* What the kernel says of a BPF link, as far as node.links reports it.
 * The libbpf headers bpfleet builds with predate the kernel's perf_event,
 * tcx and netkit link facts, so link_facts.c reads bpf_link_info through
 * a copy of the newer layout (the kernel copies no more than it is given
 * and no more than it has, so older kernels leave the newer members 0). */

struct bpfleet_link_facts {
	unsigned int type;          /* enum bpf_link_type */
	unsigned int id;
	unsigned int prog_id;
	unsigned int attach_type;   /* enum bpf_attach_type, where the link type has one */
	unsigned int ifindex;       /* xdp, tcx, netkit */
	unsigned int netns_ino;     /* netns */
	unsigned long long cgroup_id;       /* cgroup */
	unsigned int target_obj_id; /* tracing: BTF object id (0: vmlinux) */
	unsigned int target_btf_id; /* tracing: the type's id in that BTF */
	unsigned int perf_type;     /* perf_event: BPF_PERF_EVENT_UPROBE... (enum bpf_perf_event_type) */
	unsigned long long offset;  /* perf_event uprobe/kprobe: offset */
	unsigned long long addr;    /* perf_event kprobe: address */
	unsigned long long config;  /* perf_event event: config */
	unsigned int event_type;    /* perf_event event: perf type */
	unsigned int map_id;        /* iter over a map; struct_ops map */
	char name[256];             /* raw tracepoint, tracepoint, iterator target,
	                             * uprobe file, kprobe function; NUL-terminated,
	                             * cut at 255 bytes */
};

/* Fills `out` from the link open at `fd`. 0, or -errno. */
int bpfleet_link_facts_read(int fd, struct bpfleet_link_facts *out);

#endif

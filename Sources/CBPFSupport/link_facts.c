#include "bpfleet_link_facts.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <bpf/bpf.h>

/* struct bpf_link_info as of Linux 6.8 (include/uapi/linux/bpf.h), only
 * the members read here spelled out. */
struct link_info_v68 {
	uint32_t type;
	uint32_t id;
	uint32_t prog_id;
	uint32_t pad_to_union;
	union {
		struct {
			uint64_t tp_name;
			uint32_t tp_name_len;
		} raw_tracepoint;
		struct {
			uint32_t attach_type;
			uint32_t target_obj_id;
			uint32_t target_btf_id;
		} tracing;
		struct {
			uint64_t cgroup_id;
			uint32_t attach_type;
		} cgroup;
		struct {
			uint64_t target_name;
			uint32_t target_name_len;
			uint32_t map_id;
		} iter;
		struct {
			uint32_t netns_ino;
			uint32_t attach_type;
		} netns;
		struct {
			uint32_t ifindex;
		} xdp;
		struct {
			uint32_t map_id;
		} struct_ops;
		struct {
			uint32_t type; /* enum bpf_perf_event_type */
			uint32_t pad;
			union {
				struct {
					uint64_t file_name;
					uint32_t name_len;
					uint32_t offset;
					uint64_t cookie;
				} uprobe;
				struct {
					uint64_t func_name;
					uint32_t name_len;
					uint32_t offset;
					uint64_t addr;
					uint64_t missed;
					uint64_t cookie;
				} kprobe;
				struct {
					uint64_t tp_name;
					uint32_t name_len;
					uint32_t pad;
					uint64_t cookie;
				} tracepoint;
				struct {
					uint64_t config;
					uint32_t type;
					uint32_t pad;
					uint64_t cookie;
				} event;
			};
		} perf_event;
		struct {
			uint32_t ifindex;
			uint32_t attach_type;
		} tcx;
		uint8_t room[96];
	};
} __attribute__((aligned(8)));

enum {
	LINK_RAW_TRACEPOINT = 1, LINK_TRACING = 2, LINK_CGROUP = 3, LINK_ITER = 4, LINK_NETNS = 5,
	LINK_XDP = 6, LINK_PERF_EVENT = 7, LINK_STRUCT_OPS = 9, LINK_TCX = 11, LINK_NETKIT = 13,
};

enum { PERF_UPROBE = 1, PERF_URETPROBE = 2, PERF_KPROBE = 3, PERF_KRETPROBE = 4, PERF_TRACEPOINT = 5, PERF_EVENT = 6 };

static int read_info(int fd, struct link_info_v68 *info)
{
	uint32_t length = sizeof(*info);
	if (bpf_obj_get_info_by_fd(fd, info, &length))
		return -errno;
	return 0;
}

int bpfleet_link_facts_read(int fd, struct bpfleet_link_facts *out)
{
	struct link_info_v68 info;
	int err;

	memset(out, 0, sizeof(*out));
	memset(&info, 0, sizeof(info));
	/* The first read learns the type: which members point at a name buffer. */
	err = read_info(fd, &info);
	if (err)
		return err;
	uint32_t type = info.type;
	uint32_t perf_type = info.perf_event.type;
	memset(&info, 0, sizeof(info));
	uint64_t buffer = (uint64_t)(uintptr_t)out->name;
	uint32_t room = sizeof(out->name) - 1;
	switch (type) {
	case LINK_RAW_TRACEPOINT:
		info.raw_tracepoint.tp_name = buffer;
		info.raw_tracepoint.tp_name_len = room;
		break;
	case LINK_ITER:
		info.iter.target_name = buffer;
		info.iter.target_name_len = room;
		break;
	case LINK_PERF_EVENT:
		switch (perf_type) {
		case PERF_UPROBE:
		case PERF_URETPROBE:
			info.perf_event.uprobe.file_name = buffer;
			info.perf_event.uprobe.name_len = room;
			break;
		case PERF_KPROBE:
		case PERF_KRETPROBE:
			info.perf_event.kprobe.func_name = buffer;
			info.perf_event.kprobe.name_len = room;
			break;
		case PERF_TRACEPOINT:
			info.perf_event.tracepoint.tp_name = buffer;
			info.perf_event.tracepoint.name_len = room;
			break;
		}
		break;
	}
	err = read_info(fd, &info);
	/* A name longer than the buffer: ENOSPC, with the buffer filled as far
	 * as it goes; the facts are still good. */
	if (err && err != -ENOSPC)
		return err;
	out->name[sizeof(out->name) - 1] = 0;
	out->type = info.type;
	out->id = info.id;
	out->prog_id = info.prog_id;
	switch (info.type) {
	case LINK_TRACING:
		out->attach_type = info.tracing.attach_type;
		out->target_obj_id = info.tracing.target_obj_id;
		out->target_btf_id = info.tracing.target_btf_id;
		break;
	case LINK_CGROUP:
		out->cgroup_id = info.cgroup.cgroup_id;
		out->attach_type = info.cgroup.attach_type;
		break;
	case LINK_ITER:
		out->map_id = info.iter.map_id;
		break;
	case LINK_NETNS:
		out->netns_ino = info.netns.netns_ino;
		out->attach_type = info.netns.attach_type;
		break;
	case LINK_XDP:
		out->ifindex = info.xdp.ifindex;
		break;
	case LINK_STRUCT_OPS:
		out->map_id = info.struct_ops.map_id;
		break;
	case LINK_TCX:
	case LINK_NETKIT:
		out->ifindex = info.tcx.ifindex;
		out->attach_type = info.tcx.attach_type;
		break;
	case LINK_PERF_EVENT:
		out->perf_type = info.perf_event.type;
		switch (info.perf_event.type) {
		case PERF_UPROBE:
		case PERF_URETPROBE:
			out->offset = info.perf_event.uprobe.offset;
			break;
		case PERF_KPROBE:
		case PERF_KRETPROBE:
			out->offset = info.perf_event.kprobe.offset;
			out->addr = info.perf_event.kprobe.addr;
			break;
		case PERF_EVENT:
			out->config = info.perf_event.event.config;
			out->event_type = info.perf_event.event.type;
			break;
		}
		break;
	}
	return 0;
}

#include "bpfleet_events.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>

_Static_assert(sizeof(enum bpf_perf_event_ret) == sizeof(int), "bpf_perf_event_ret is an int");

struct perf_buffer *bpfleet_perf_buffer_new(int map_fd, unsigned long page_cnt,
					    unsigned int wakeup_events,
					    bpfleet_perf_event_fn event_cb, void *ctx)
{
	struct perf_event_attr attr;
	struct perf_buffer_raw_opts opts;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_BPF_OUTPUT;
	attr.sample_type = PERF_SAMPLE_RAW;
	attr.sample_period = 1;
	attr.wakeup_events = wakeup_events ? wakeup_events : 1;

	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	/* cpu_cnt 0: a buffer on every possible CPU, as perf_buffer__new. */
	return perf_buffer__new_raw(map_fd, page_cnt, &attr, (perf_buffer_event_fn)event_cb, ctx, &opts);
}

/* PERF_SAMPLE_RAW samples and PERF_RECORD_LOST, as the kernel writes them. */
struct raw_sample {
	struct perf_event_header header;
	uint32_t size;
	char data[];
};

struct lost_record {
	struct perf_event_header header;
	uint64_t id;
	uint64_t lost;
};

enum bpfleet_perf_record_kind bpfleet_perf_record_decode(const struct perf_event_header *header,
							  const void **data, unsigned int *size,
							  unsigned long long *lost)
{
	switch (header->type) {
	case PERF_RECORD_SAMPLE: {
		const struct raw_sample *sample = (const void *)header;

		if (header->size < sizeof(*sample) || sample->size > header->size - sizeof(*sample))
			return BPFLEET_PERF_RECORD_OTHER;
		*data = sample->data;
		*size = sample->size;
		return BPFLEET_PERF_RECORD_SAMPLE;
	}
	case PERF_RECORD_LOST: {
		const struct lost_record *record = (const void *)header;

		if (header->size < sizeof(*record))
			return BPFLEET_PERF_RECORD_OTHER;
		*lost = record->lost;
		return BPFLEET_PERF_RECORD_LOST;
	}
	default:
		return BPFLEET_PERF_RECORD_OTHER;
	}
}

int bpfleet_epoll_wait_one(int epoll_fd, int timeout_ms)
{
	struct epoll_event event;
	int ready = epoll_wait(epoll_fd, &event, 1, timeout_ms);

	return ready < 0 ? -errno : ready;
}

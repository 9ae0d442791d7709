#ifndef BPFLEET_EVENTS_H
#define BPFLEET_EVENTS_H

/* What Swift cannot express over libbpf's perf buffer: the perf event
 * attributes (linux/perf_event.h), the layout of the records in a perf
 * ring, and epoll. Used by PerfBufferReader.
 *
 * No includes: libbpf's and the kernel's headers belong to the CLibBPF
 * module, and including them here would make them this module's. */

struct perf_buffer;
struct perf_event_header;

/* libbpf's perf_buffer_event_fn, with its enum bpf_perf_event_ret result
 * as the int it is: LIBBPF_PERF_EVENT_CONT (-2) reads on, DONE (0) ends
 * this ring's pass after this record. */
typedef int (*bpfleet_perf_event_fn)(void *ctx, int cpu, struct perf_event_header *event);

/* perf_buffer__new with the attributes libbpf's perf_buffer__new uses (a
 * PERF_COUNT_SW_BPF_OUTPUT software event, raw samples) and a ring on every
 * possible CPU, but with a raw event callback, which, unlike the sample
 * callback of perf_buffer__new, can stop a ring's consumption part way, and
 * a choice of how many samples make a wakeup (perf_buffer__new: 1; more
 * costs the traced work fewer interrupts but leaves a few samples for the
 * reader's next timed poll to find). NULL with errno set on failure; free
 * it with perf_buffer__free. */
struct perf_buffer *bpfleet_perf_buffer_new(int map_fd, unsigned long page_cnt,
					    unsigned int wakeup_events,
					    bpfleet_perf_event_fn event_cb, void *ctx);

enum bpfleet_perf_record_kind {
	BPFLEET_PERF_RECORD_OTHER = 0,
	BPFLEET_PERF_RECORD_SAMPLE = 1, /* *data, *size: what the program sent */
	BPFLEET_PERF_RECORD_LOST = 2,   /* *lost: samples the kernel dropped */
};

/* Reads one record of a perf ring, as the event callback receives it. */
enum bpfleet_perf_record_kind bpfleet_perf_record_decode(const struct perf_event_header *header,
							  const void **data, unsigned int *size,
							  unsigned long long *lost);

/* epoll_wait for one event: >0 when something is ready, 0 on timeout,
 * -errno on failure (-EINTR when a signal came first). */
int bpfleet_epoll_wait_one(int epoll_fd, int timeout_ms);

#endif

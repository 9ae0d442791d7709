#define _GNU_SOURCE
#include "bpfleet_perf_tracepoint.h"

#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

int bpfleet_perf_event_open_tracepoint(unsigned long long tracepoint_id)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = tracepoint_id;
	return (int)syscall(__NR_perf_event_open, &attr, -1 /* pid */, 0 /* cpu */, -1 /* group */,
			    PERF_FLAG_FD_CLOEXEC);
}

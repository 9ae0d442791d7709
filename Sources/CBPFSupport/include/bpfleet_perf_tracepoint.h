#ifndef BPFLEET_PERF_TRACEPOINT_H
#define BPFLEET_PERF_TRACEPOINT_H

/* perf_event_open(2) of a tracepoint event by its tracefs id, as libbpf
 * opens one to attach a tracepoint program (any process, CPU 0: a BPF
 * program on a tracepoint runs on every CPU). Used to attach programs
 * bpfleetd holds only by a pinned descriptor, which libbpf's
 * bpf_program__attach_* cannot take. The descriptor, or -1 with errno set. */
int bpfleet_perf_event_open_tracepoint(unsigned long long tracepoint_id);

#endif

/* Test fixture: floods a deliberately tiny ring buffer (`flood_events`,
 * program `flood_ringbuf`) or a perf event array (`flood_perf_events`,
 * program `flood_perf`) with one record per system call of one process, and
 * counts in the kernel what found no room, so a test can check that
 * received + dropped == made. */
#include "common.h"

/* 16 bytes (4 of them padding); 24 in the ring with its header. */
struct flood_record {
	__u64 seq; /* 0, 1, 2, ... in the order the program ran */
	__u32 nr;  /* the system call number */
};

/* One page: about 170 records fit. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} flood_events SEC(".maps");

/* Its size per CPU is whatever the reader maps (perf_buffer__new's page_cnt). */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} flood_perf_events SEC(".maps");

/* Records that found no room: bpf_ringbuf_reserve or bpf_perf_event_output
 * failed. Key 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Records the program tried to send (system calls that passed the filter). Key 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} attempts SEC(".maps");

/* Only this thread group (0: every process). Set at load. */
const volatile __u32 target_tgid = 0;
/* Only this system call number (-1: every one). Set at load. */
const volatile __s64 target_nr = -1;

/* The next record's sequence number, shared by all CPUs. */
__u64 next_seq = 0;

static __always_inline int wanted(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (target_tgid && tgid != target_tgid)
		return 0;
	if (target_nr >= 0 && (__s64)ctx->args[1] != target_nr)
		return 0;
	return 1;
}

/* Not inlined, so that `struct flood_record` is in the object's BTF. */
static __noinline void fill(struct flood_record *r, __u64 nr)
{
	r->seq = __sync_fetch_and_add(&next_seq, 1);
	r->nr = (__u32)nr;
}

static __always_inline void count(void *counter)
{
	__u32 zero = 0;
	__u64 *value = bpf_map_lookup_elem(counter, &zero);

	if (value)
		__sync_fetch_and_add(value, 1);
}

SEC("raw_tracepoint/sys_enter")
int flood_ringbuf(struct bpf_raw_tracepoint_args *ctx)
{
	struct flood_record *r;

	if (!wanted(ctx))
		return 0;
	count(&attempts);
	r = bpf_ringbuf_reserve(&flood_events, sizeof(*r), 0);
	if (!r) {
		count(&lost);
		return 0;
	}
	fill(r, ctx->args[1]);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int flood_perf(struct bpf_raw_tracepoint_args *ctx)
{
	struct flood_record r = {};

	if (!wanted(ctx))
		return 0;
	count(&attempts);
	fill(&r, ctx->args[1]);
	if (bpf_perf_event_output(ctx, &flood_perf_events, BPF_F_CURRENT_CPU, &r, sizeof(r)) < 0)
		count(&lost);
	return 0;
}

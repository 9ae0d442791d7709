/* Benchmark fixture: one ring buffer record per system call of one process
 * (`rate_ringbuf`), into a ring large enough (8 MiB, about 350,000 records)
 * that a reader keeping up on average never makes it drop; what still found
 * no room is counted in the kernel, so the event benchmark can check that
 * received + dropped == made. The record is event_flood's. */
#include "common.h"

/* 16 bytes (4 of them padding); 24 in the ring with its header. */
struct flood_record {
	__u64 seq; /* 0, 1, 2, ... in the order the records were reserved */
	__u32 nr;  /* the system call number */
};

/* 8 MiB: about 350,000 records. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} rate_events SEC(".maps");

/* Records that found no room (bpf_ringbuf_reserve failed). Key 0. */
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

/* The next record's sequence number. Only records that got room take one,
 * so a gap in what a reader sees is the server's loss, not the kernel's. */
__u64 next_seq = 0;

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
int rate_ringbuf(struct bpf_raw_tracepoint_args *ctx)
{
	struct flood_record *r;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (target_tgid && tgid != target_tgid)
		return 0;
	if (target_nr >= 0 && (__s64)ctx->args[1] != target_nr)
		return 0;
	count(&attempts);
	r = bpf_ringbuf_reserve(&rate_events, sizeof(*r), 0);
	if (!r) {
		count(&lost);
		return 0;
	}
	fill(r, ctx->args[1]);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

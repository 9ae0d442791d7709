/* Maps exported to Prometheus (docs/metrics.md, "Map exports"): the test
 * fixture of MetricsExportTests and the export benchmark. getpgid(ARG)
 * calls of one process (target_tgid, set at load) are counted by syscall,
 * cgroup and command, and ARG fills a log2 and a linear histogram. The
 * `decoded` map is filled from user space, one key field per decoder. */
#include "common.h"

const volatile __u32 target_tgid = 0;

struct call_key {
	__u32 nr;
	__u32 pad;
	__u64 cgroup;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct call_key);
	__type(value, __u64);
} calls SEC(".maps");

#define LOG2_SLOTS 20
struct log2_hist {
	__u64 slots[LOG2_SLOTS];
	__u64 sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct log2_hist);
} latency SEC(".maps");

#define LINEAR_SLOTS 10
struct linear_hist {
	__u32 slots[LINEAR_SLOTS];
};

/* ARG % 100 in slots 10 wide, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct linear_hist);
} spread SEC(".maps");

struct decode_key {
	__u64 addr;
	__s32 err;
	__u8 v4[4];
	__u8 v6[16];
	__u32 nr;
	__u32 level;
	__u64 cgroup;
};

struct gauge_value {
	__s64 level;
	__u64 unused;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct decode_key);
	__type(value, struct gauge_value);
} decoded SEC(".maps");

static __always_inline __u32 log2_slot(__u64 value)
{
	__u32 slot = 0;

	for (int i = 0; i < 63 && value > 1; i++) {
		value >>= 1;
		slot++;
	}
	return slot < LOG2_SLOTS ? slot : LOG2_SLOTS - 1;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int on_getpgid(struct trace_event_raw_sys_enter *ctx)
{
	struct call_key key = {};
	__u64 arg = ctx->args[0];
	__u64 one = 1, *count;
	__u32 zero = 0;
	struct log2_hist *hist;
	struct linear_hist *spread_hist;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	key.nr = (__u32)ctx->id;
	key.cgroup = bpf_get_current_cgroup_id();
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&calls, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&calls, &key, &one, BPF_NOEXIST);

	hist = bpf_map_lookup_elem(&latency, &zero);
	if (hist) {
		__u32 slot = log2_slot(arg);

		asm volatile("" : "+r"(slot));
		if (slot < LOG2_SLOTS)
			__sync_fetch_and_add(&hist->slots[slot], 1);
		__sync_fetch_and_add(&hist->sum, arg);
	}
	spread_hist = bpf_map_lookup_elem(&spread, &zero);
	if (spread_hist) {
		__u32 slot = (__u32)(arg % 100) / 10;

		/* The compiler knows the bound; the verifier must see it. */
		asm volatile("" : "+r"(slot));
		if (slot < LINEAR_SLOTS)
			spread_hist->slots[slot] += 1;
	}
	return 0;
}

/* Exec snoop: one record per exec, to a ring buffer (`events`, program
 * `execsnoop`) or to a perf event array (`perf_events`, program
 * `execsnoop_perf`). Attach one of the two; both send the same records. */
#include "common.h"

#define FILENAME_LEN 256

/* 284 bytes, no padding; `recordType: "struct exec_event"` decodes it. */
struct exec_event {
	__u32 pid;  /* thread group id of the process that exec'd */
	__u32 ppid; /* its parent's thread group id */
	__u32 uid;
	char comm[TASK_COMM_LEN];      /* the new comm: the binary's base name */
	char filename[FILENAME_LEN];   /* the path given to execve */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

/* Records that found no room (ring buffer full, or perf buffer full or
 * not being read), per program: [0] ring buffer, [1] perf event array. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

static __always_inline void count_drop(__u32 which)
{
	__u64 *count = bpf_map_lookup_elem(&dropped, &which);

	if (count)
		__sync_fetch_and_add(count, 1);
}

/* Not inlined: a function taking `struct exec_event *` is what keeps the
 * struct in the object's BTF, where `recordType` finds it. */
static __noinline void fill(struct exec_event *e, struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned int offset = ctx->__data_loc_filename & 0xFFFF;

	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + offset) < 0)
		e->filename[0] = 0;
}

SEC("tracepoint/sched/sched_process_exec")
int execsnoop(struct trace_event_raw_sched_process_exec *ctx)
{
	struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_drop(0);
		return 0;
	}
	fill(e, ctx);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int execsnoop_perf(struct trace_event_raw_sched_process_exec *ctx)
{
	struct exec_event e = {};

	fill(&e, ctx);
	if (bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e)) < 0)
		count_drop(1);
	return 0;
}

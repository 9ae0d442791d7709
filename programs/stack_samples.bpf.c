/* Stacks the way profilers take them (offcputime, profile): a stack trace
 * map sized at load (max_entries 0; its value size, the stack depth times
 * 8, set by the loader too) and a count per stack id: the kernel stack of
 * each exec of the command named target_comm (sample_exec_stack), and the
 * user stack of each call of a uprobe's function, by process
 * (sample_user_stack). */
#include "common.h"

struct stack_key {
	__s32 kern_stack_id;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 8 * sizeof(__u64));
	__uint(max_entries, 0);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct stack_key);
	__type(value, __u64);
} stack_counts SEC(".maps");

struct user_stack_key {
	__u32 tgid;
	__s32 user_stack_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct user_stack_key);
	__type(value, __u64);
} user_stack_counts SEC(".maps");

/* Filled by the stack benchmark (bench/measurements/stack_symbolize.py),
 * no program writes it: many entries naming the stacks the programs took,
 * as a profiler's map of counts by process and stacks holds them. */
struct sampled_key {
	__u32 n;
	__u32 tgid;
	__s32 kern_stack_id;
	__s32 user_stack_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sampled_key);
	__type(value, __u64);
} sampled_stacks SEC(".maps");

const volatile char target_comm[TASK_COMM_LEN] = {};

SEC("tracepoint/sched/sched_process_exec")
int sample_exec_stack(void *ctx)
{
	struct stack_key key = {};
	__u64 zero = 0, *count;

	if (!current_comm_is(target_comm))
		return 0;
	key.kern_stack_id = bpf_get_stackid(ctx, &stacks, 0);
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&stack_counts, &key);
	if (!count) {
		bpf_map_update_elem(&stack_counts, &key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&stack_counts, &key);
		if (!count)
			return 0;
	}
	__sync_fetch_and_add(count, 1);
	return 0;
}

SEC("uprobe")
int sample_user_stack(struct pt_regs *ctx)
{
	struct user_stack_key key = {};
	__u64 zero = 0, *count;

	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	count = bpf_map_lookup_elem(&user_stack_counts, &key);
	if (!count) {
		bpf_map_update_elem(&user_stack_counts, &key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&user_stack_counts, &key);
		if (!count)
			return 0;
	}
	__sync_fetch_and_add(count, 1);
	return 0;
}

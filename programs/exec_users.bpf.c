/* The last exec of each user, as a struct with a char[] field. */
#include "common.h"

enum exec_kind {
	EXEC_BY_ROOT = 0,
	EXEC_BY_USER = 1,
};

struct exec_record {
	char comm[TASK_COMM_LEN];
	__u32 pid;
	__s32 ppid;
	__u64 count;
	enum exec_kind kind;
	__u16 cpu_hint[2];
	__s64 delta_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* uid */
	__type(value, struct exec_record);
} last_exec SEC(".maps");

/* Only uids at or above this are recorded (set at load). */
const volatile __u32 min_uid = 0;
/* Counts records written, in .data. */
__u64 records_written = 7;

SEC("tracepoint/sched/sched_process_exec")
int record_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct exec_record fresh = {}, *rec;

	if (uid < min_uid)
		return 0;
	rec = bpf_map_lookup_elem(&last_exec, &uid);
	if (!rec) {
		bpf_map_update_elem(&last_exec, &uid, &fresh, BPF_NOEXIST);
		rec = bpf_map_lookup_elem(&last_exec, &uid);
		if (!rec)
			return 0;
	}
	bpf_get_current_comm(&rec->comm, sizeof(rec->comm));
	rec->pid = bpf_get_current_pid_tgid() >> 32;
	rec->ppid = BPF_CORE_READ(task, real_parent, tgid);
	rec->count += 1;
	rec->kind = uid == 0 ? EXEC_BY_ROOT : EXEC_BY_USER;
	rec->cpu_hint[0] = bpf_get_smp_processor_id();
	rec->cpu_hint[1] = 0;
	rec->delta_ns = -1;
	__sync_fetch_and_add(&records_written, 1);
	return 0;
}

/* A test fixture written the way libbpf-tools write their tools: maps
 * declared with max_entries 0, sized by the loader between open and load
 * (bpf_map__set_max_entries), a filter in .rodata set before the load, a
 * map with no BTF value type whose value size the loader sets, and a map
 * that asks libbpf to pin it by name under /sys/fs/bpf (bpfleetd pins it
 * under the probe's own directory instead).
 *
 * Counts execs of the command named target_comm, by the pid that exec'd.
 *
 * Built twice: sized_at_load_unique.bpf.o (-DUNIQUE_NAMES) has the same
 * maps under names no other fixture has (`_u` added), for the test that
 * counts the kernel's maps by name while other tests load this one. */
#include "common.h"

#ifdef UNIQUE_NAMES
#define NAMED(name) name##_u
#else
#define NAMED(name) name
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 0);
	__type(key, __u32);
	__type(value, __u64);
} NAMED(execs_by_pid) SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 0);
} NAMED(exec_events) SEC(".maps");

/* No BTF value type: value_size is the loader's to set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} NAMED(raw_values) SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} NAMED(sized_total) SEC(".maps");

const volatile char target_comm[TASK_COMM_LEN] = {};

SEC("tracepoint/sched/sched_process_exec")
int count_exec_by_pid(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	__u64 one = 1, *total;

	if (!current_comm_is(target_comm))
		return 0;
	bpf_map_update_elem(&NAMED(execs_by_pid), &pid, &one, BPF_NOEXIST);
	total = bpf_map_lookup_elem(&NAMED(sized_total), &zero);
	if (total)
		__sync_fetch_and_add(total, 1);
	return 0;
}

/* A test fixture whose maps have names bpffs refuses: string literals the
 * compiler puts in .rodata.str1.1 (the bpf_printk habit of formatting with
 * literals) and a 16-byte constant in .rodata.cst16, each a map of its own
 * to libbpf; and a map and a program whose names are longer than the
 * kernel's 16 bytes.
 *
 * Counts execs of target_comm, tagging each with a literal string and a
 * constant copied from those sections. */
#include "common.h"

struct exec_tag {
	char label[16];
	__u64 constant[2];
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct exec_tag);
} tagged_execs_with_a_long_name SEC(".maps");

const volatile char target_comm[TASK_COMM_LEN] = {};
const volatile __u32 use_second_label = 0;

SEC("tracepoint/sched/sched_process_exec")
int tag_execs_with_literal_strings(void *ctx)
{
	static const __u64 pattern[2] = {0x1122334455667788ULL, 0x99aabbccddeeff00ULL};
	const char *label = use_second_label ? "second-label" : "first-label";
	__u32 zero = 0;
	struct exec_tag *tag, init = {};

	if (!current_comm_is(target_comm))
		return 0;
	tag = bpf_map_lookup_elem(&tagged_execs_with_a_long_name, &zero);
	if (!tag) {
		bpf_probe_read_kernel_str(init.label, sizeof(init.label), label);
		__builtin_memcpy(init.constant, pattern, sizeof(pattern));
		bpf_map_update_elem(&tagged_execs_with_a_long_name, &zero, &init, BPF_NOEXIST);
		tag = bpf_map_lookup_elem(&tagged_execs_with_a_long_name, &zero);
		if (!tag)
			return 0;
	}
	__sync_fetch_and_add(&tag->count, 1);
	return 0;
}

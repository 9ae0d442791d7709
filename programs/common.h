/* Shared by the example programs: kernel types and libbpf's helpers. */
#ifndef BPFLEET_PROGRAMS_COMMON_H
#define BPFLEET_PROGRAMS_COMMON_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16

char LICENSE[] SEC("license") = "GPL";

/* True when the current task's command name is `target` (a filter in
 * .rodata, set at load). */
static __always_inline int current_comm_is(const volatile char *target)
{
	char comm[TASK_COMM_LEN] = {};
	int i;

	bpf_get_current_comm(&comm, sizeof(comm));
	for (i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != target[i])
			return 0;
		if (!comm[i])
			break;
	}
	return 1;
}
#endif

/* Shared by the example programs: kernel types and libbpf's helpers. */
#ifndef BPFLEET_PROGRAMS_COMMON_H
#define BPFLEET_PROGRAMS_COMMON_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16

char LICENSE[] SEC("license") = "GPL";
#endif

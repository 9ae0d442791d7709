#ifndef BPFLEET_CLIBBPF_SHIM_H
#define BPFLEET_CLIBBPF_SHIM_H

/* libbpf and the kernel's BPF/BTF definitions; system headers (unistd,
 * errno, statfs) come to Swift through Glibc instead. */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#endif

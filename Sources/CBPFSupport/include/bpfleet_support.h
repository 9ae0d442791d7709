#ifndef BPFLEET_SUPPORT_H
#define BPFLEET_SUPPORT_H

/* Ring buffer and perf buffer helpers for the event readers. */
#include "bpfleet_events.h"
/* Named here too, so that a module built before the header existed is built again. */
#include "bpfleet_elf_symbols.h"
#include "bpfleet_btf_dump.h"
#include "bpfleet_capabilities.h"

/* libbpf prints its warnings to stderr by default. bpfleetd keeps the last
 * ones of the calling thread instead, so that an "invalid object" error can
 * say what libbpf said; verifier logs are captured per load, separately. */

/* Routes libbpf's messages into the per-thread capture. */
void bpfleet_capture_libbpf_messages(void);

/* Starts a fresh capture on this thread. */
void bpfleet_libbpf_messages_reset(void);

/* What libbpf said on this thread since the last reset (NUL-terminated). */
const char *bpfleet_libbpf_messages_get(void);

/* The symbolic name of an errno value ("ENOENT"), or "" if unknown. */
const char *bpfleet_errno_name(int value);

/* The filesystem type magic of the filesystem holding path, or -1. */
long bpfleet_filesystem_type(const char *path);

/* mount(2) with no flags and no data; 0 or -1 with errno set. */
int bpfleet_mount(const char *source, const char *target, const char *type);

/* perf_event_open(2) for one CPU of every process, counting `config` of
 * `type` (PERF_TYPE_SOFTWARE, PERF_TYPE_HARDWARE) and sampling at
 * `frequency` Hz; the descriptor (close-on-exec), or -1 with errno set. */
int bpfleet_perf_event_open(unsigned int type, unsigned long long config, unsigned long long frequency, int cpu);

/* Swaps two paths atomically (renameat2 RENAME_EXCHANGE): both must
 * exist; 0, or -1 with errno set and nothing changed. */
int bpfleet_rename_exchange(const char *first, const char *second);

/* Starts `path` with `argv` (NULL-terminated) and the environment, its
 * descriptor 3 being `channel_fd`, 2 being `stderr_fd`, 0 and 1 /dev/null,
 * and every other descriptor closed (they are close-on-exec). 0 and the
 * child's pid in *pid, or an errno value. */
int bpfleet_spawn_helper(const char *path, char *const argv[], int channel_fd, int stderr_fd, int *pid);

/* Asks the kernel to kill this process with SIGKILL when its parent dies
 * (prctl PR_SET_PDEATHSIG); 0, or -1 with errno set. */
int bpfleet_die_with_parent(void);

/* Sets RLIMIT_DATA to `bytes` and, for SIGABRT, SIGSEGV, SIGBUS, SIGILL and
 * SIGTRAP, a handler that writes the process's data size against that
 * limit to stderr ("out of memory: data N kB of its limit M kB", when the
 * data is 80% of the limit or more) and dies of the same signal. A process
 * that ran out of its data limit dies wherever the allocation failed, often
 * with no word of memory; this line says why. 0, or -1 with errno set. */
int bpfleet_limit_data(unsigned long long bytes);

/* fallocate(2) with FALLOC_FL_KEEP_SIZE: gives the file blocks for
 * `length` bytes from `offset` without changing its length, so that later
 * writes there cannot fail for want of space. 0, or -errno (-EOPNOTSUPP:
 * the filesystem cannot). */
int bpfleet_preallocate(int fd, long long offset, long long length);

#endif

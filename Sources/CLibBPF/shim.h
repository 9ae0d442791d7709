#ifndef BPFLEET_CLIBBPF_SHIM_H
#define BPFLEET_CLIBBPF_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

/* libbpf prints its warnings to stderr by default. bpfleetd keeps the last
 * ones of the calling thread instead, so that an "invalid object" error can
 * say what libbpf said; verifier logs are captured per load, separately. */
#define BPFLEET_LIBBPF_MESSAGES 4096
static __thread char bpfleet_libbpf_messages[BPFLEET_LIBBPF_MESSAGES];
static __thread size_t bpfleet_libbpf_messages_len;

static int bpfleet_libbpf_capture(enum libbpf_print_level level, const char *fmt, va_list ap) {
    if (level == LIBBPF_DEBUG)
        return 0;
    size_t room = BPFLEET_LIBBPF_MESSAGES - bpfleet_libbpf_messages_len;
    if (room <= 1)
        return 0;
    int n = vsnprintf(bpfleet_libbpf_messages + bpfleet_libbpf_messages_len, room, fmt, ap);
    if (n > 0)
        bpfleet_libbpf_messages_len += (size_t)n < room ? (size_t)n : room - 1;
    return n;
}

static inline void bpfleet_capture_libbpf_messages(void) {
    libbpf_set_print(bpfleet_libbpf_capture);
}

/* Starts a fresh capture on this thread. */
static inline void bpfleet_libbpf_messages_reset(void) {
    bpfleet_libbpf_messages_len = 0;
    bpfleet_libbpf_messages[0] = 0;
}

static inline const char *bpfleet_libbpf_messages_get(void) {
    return bpfleet_libbpf_messages;
}

static inline int bpfleet_errno(void) { return errno; }
static inline void bpfleet_set_errno(int value) { errno = value; }
static inline const char *bpfleet_errno_name(int value) {
    const char *name = strerrorname_np(value);
    return name ? name : "";
}

/* BPF_FS_MAGIC / TRACEFS_MAGIC, so Swift need not hard-code them. */
static inline long bpfleet_bpffs_magic(void) { return 0xcafe4a11L; }
static inline long bpfleet_tracefs_magic(void) { return 0x74726163L; }

#endif

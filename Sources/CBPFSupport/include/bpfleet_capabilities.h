#ifndef BPFLEET_CAPABILITIES_H
#define BPFLEET_CAPABILITIES_H

#include <stdint.h>

/* Capability sets as bit masks: bit N is capability N (CAP_BPF is 39). */

/* The calling thread's effective, permitted and bounding sets; 0, or -1
 * with errno set. */
int bpfleet_capabilities_get(uint64_t *effective, uint64_t *permitted, uint64_t *bounding);

/* The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap). */
int bpfleet_capability_last(void);

/* Limits every thread of this process to the capabilities in `keep`:
 * each thread drops the others from its bounding set (while it still has
 * CAP_SETPCAP), clears its ambient and inheritable sets, sets its
 * effective and permitted sets to `keep` & its permitted set, and, when
 * `no_new_privs`, sets PR_SET_NO_NEW_PRIVS. Capabilities belong to each
 * thread, not to the process: the calling thread does this itself, every
 * other thread in a handler of SIGSYS sent to it (as libpsx
 * does), until a pass over /proc/self/task finds no thread left to do.
 * 0; or -1 with errno set (EPERM: a thread could not drop; ETIMEDOUT: a
 * thread did not run the handler within `timeout_ms`). */
int bpfleet_capabilities_limit(uint64_t keep, int no_new_privs, int timeout_ms);

#endif

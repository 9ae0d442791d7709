#define _GNU_SOURCE
#include "bpfleet_capabilities.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SETPCAP_BIT (1ULL << CAP_SETPCAP)
#define MAX_THREADS 4096

int bpfleet_capability_last(void)
{
	char text[16] = { 0 };
	int last = -1;
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, text, sizeof text - 1) > 0)
			last = atoi(text);
		close(fd);
	}
	if (last <= 0 || last > 63) {
		/* No /proc: the bounding set answers EINVAL past the last. */
		last = 0;
		while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
			last++;
	}
	return last;
}

static int read_sets(uint64_t *effective, uint64_t *permitted)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &header, data) != 0)
		return -1;
	*effective = (uint64_t)data[0].effective | (uint64_t)data[1].effective << 32;
	*permitted = (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
	return 0;
}

int bpfleet_capabilities_get(uint64_t *effective, uint64_t *permitted, uint64_t *bounding)
{
	int last = bpfleet_capability_last();
	uint64_t set = 0;

	if (read_sets(effective, permitted) != 0)
		return -1;
	for (int cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			set |= 1ULL << cap;
	*bounding = set;
	return 0;
}

/* What every thread is to do; set before the first signal is sent. */
static uint64_t plan_keep;
static int plan_no_new_privs;
static int plan_last;

static atomic_int failures;
static atomic_int done_count;
static _Atomic pid_t done_tids[MAX_THREADS];

/* Async-signal-safe: system calls only. */
static int limit_this_thread(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint64_t effective, permitted;

	if (read_sets(&effective, &permitted) != 0)
		return -1;
	/* Only a thread with CAP_SETPCAP may shrink its bounding set. One
	 * without it keeps the bounding set it was given: with no_new_privs
	 * (and no inheritable or ambient set) no exec can gain from it. */
	if (effective & SETPCAP_BIT) {
		for (int cap = 0; cap <= plan_last; cap++) {
			if (plan_keep & (1ULL << cap))
				continue;
			if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
				return -1;
		}
	}
	/* EINVAL: a kernel without ambient capabilities (before 4.3). */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
		return -1;
	permitted &= plan_keep;
	data[0].effective = data[0].permitted = (uint32_t)permitted;
	data[1].effective = data[1].permitted = (uint32_t)(permitted >> 32);
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &header, data) != 0)
		return -1;
	if (plan_no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return 0;
}

static void on_limit_signal(int signal)
{
	int saved = errno;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int slot;

	(void)signal;
	if (limit_this_thread() != 0)
		atomic_fetch_add(&failures, 1);
	slot = atomic_fetch_add(&done_count, 1);
	if (slot < MAX_THREADS)
		atomic_store(&done_tids[slot], tid);
	errno = saved;
}

static int is_done(pid_t tid)
{
	int count = atomic_load(&done_count);

	if (count > MAX_THREADS)
		count = MAX_THREADS;
	for (int i = 0; i < count; i++)
		if (atomic_load(&done_tids[i]) == tid)
			return 1;
	return 0;
}

static int is_gone(pid_t tid)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/self/task/%d", (int)tid);
	return access(path, F_OK) != 0;
}

static long long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int bpfleet_capabilities_limit(uint64_t keep, int no_new_privs, int timeout_ms)
{
	static pid_t signalled[MAX_THREADS];
	struct sigaction action = { 0 };
	pid_t self = (pid_t)syscall(SYS_gettid);
	pid_t process = getpid();
	/* Dispatch's worker threads, and the event loop threads they start,
	 * block every signal but the synchronous ones: SIGSYS is among those
	 * left open, and nothing else in bpfleetd handles it (libpsx takes
	 * SIGSYS for the same broadcast). */
	int signal_number = SIGSYS;
	struct sigaction previous;
	int result = -1;
	int count = 0;
	long long deadline = now_ms() + timeout_ms;

	plan_keep = keep;
	plan_no_new_privs = no_new_privs;
	plan_last = bpfleet_capability_last();
	atomic_store(&failures, 0);
	atomic_store(&done_count, 0);
	action.sa_handler = on_limit_signal;
	sigemptyset(&action.sa_mask);
	action.sa_flags = SA_RESTART;
	if (sigaction(signal_number, &action, &previous) != 0)
		return -1;
	if (limit_this_thread() != 0)
		goto out;
	for (;;) {
		int fresh = 0;
		struct dirent *entry;
		DIR *tasks = opendir("/proc/self/task");

		if (tasks == NULL)
			goto out;
		while ((entry = readdir(tasks)) != NULL) {
			pid_t tid = (pid_t)atoi(entry->d_name);
			int known = 0;

			if (tid <= 0 || tid == self)
				continue;
			for (int i = 0; i < count && !known; i++)
				known = signalled[i] == tid;
			if (known)
				continue;
			if (count == MAX_THREADS) {
				closedir(tasks);
				errno = E2BIG;
				goto out;
			}
			/* ESRCH: the thread ended meanwhile, nothing to do. */
			if (syscall(SYS_tgkill, process, tid, signal_number) == 0) {
				signalled[count++] = tid;
				fresh++;
			}
		}
		closedir(tasks);
		for (int i = 0; i < count; i++) {
			while (!is_done(signalled[i]) && !is_gone(signalled[i])) {
				struct timespec pause = { 0, 1000000 };

				if (now_ms() > deadline) {
					/* A handler may still run later: it stays. */
					errno = ETIMEDOUT;
					return -1;
				}
				nanosleep(&pause, NULL);
			}
		}
		/* A thread started before its creator dropped is found by the
		 * next pass; one started after inherits the dropped sets. */
		if (fresh == 0)
			break;
	}
	if (atomic_load(&failures) != 0)
		errno = EPERM;
	else
		result = 0;
out:
	{
		int saved = errno;

		sigaction(signal_number, &previous, NULL);
		errno = saved;
	}
	return result;
}

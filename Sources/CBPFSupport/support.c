#define _GNU_SOURCE
#include "bpfleet_support.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <spawn.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/perf_event.h>
#include <bpf/libbpf.h>

#define MESSAGES_CAPACITY 4096

static __thread char messages[MESSAGES_CAPACITY];
static __thread size_t messages_len;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t room;
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	room = MESSAGES_CAPACITY - messages_len;
	if (room <= 1)
		return 0;
	n = vsnprintf(messages + messages_len, room, fmt, ap);
	if (n > 0)
		messages_len += (size_t)n < room ? (size_t)n : room - 1;
	return n;
}

void bpfleet_capture_libbpf_messages(void)
{
	libbpf_set_print(capture);
}

void bpfleet_libbpf_messages_reset(void)
{
	messages_len = 0;
	messages[0] = 0;
}

const char *bpfleet_libbpf_messages_get(void)
{
	return messages;
}

const char *bpfleet_errno_name(int value)
{
	const char *name = strerrorname_np(value);

	return name ? name : "";
}

long bpfleet_filesystem_type(const char *path)
{
	struct statfs info;

	if (statfs(path, &info) != 0)
		return -1;
	return (long)info.f_type;
}

int bpfleet_mount(const char *source, const char *target, const char *type)
{
	return mount(source, target, type, 0, NULL);
}

int bpfleet_perf_event_open(unsigned int type, unsigned long long config, unsigned long long frequency, int cpu)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = type;
	attr.config = config;
	attr.freq = 1;
	attr.sample_freq = frequency;
	return (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

int bpfleet_rename_exchange(const char *first, const char *second)
{
	/* RENAME_EXCHANGE is 2 (linux/fs.h); the raw syscall needs no glibc 2.28. */
	return (int)syscall(SYS_renameat2, AT_FDCWD, first, AT_FDCWD, second, 2);
}

extern char **environ;

int bpfleet_spawn_helper(const char *path, char *const argv[], int channel_fd, int stderr_fd, int *pid)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attributes;
	sigset_t none, all;
	pid_t child;
	int rc;

	if ((rc = posix_spawn_file_actions_init(&actions)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&attributes)) != 0) {
		posix_spawn_file_actions_destroy(&actions);
		return rc;
	}
	/* The child starts with no signal blocked and every one at its default. */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attributes, &none);
	posix_spawnattr_setsigdefault(&attributes, &all);
	posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
	posix_spawn_file_actions_adddup2(&actions, channel_fd, 3);
	/* Whatever else bpfleetd holds (a descriptor some library opened
	 * without close-on-exec) stays out of the helper. */
	posix_spawn_file_actions_addclosefrom_np(&actions, 4);
	rc = posix_spawn(&child, path, &actions, &attributes, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attributes);
	if (rc == 0)
		*pid = child;
	return rc;
}

int bpfleet_die_with_parent(void)
{
	return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

int bpfleet_preallocate(int fd, long long offset, long long length)
{
	int result;
	do {
		result = fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length);
	} while (result != 0 && errno == EINTR);
	return result == 0 ? 0 : -errno;
}

/* Set once, before any handler can run. */
static unsigned long long data_limit_kib;

/* Appends the decimal digits of value to out; returns the new end. */
static char *append_number(char *out, unsigned long long value)
{
	char digits[24];
	int count = 0;

	do {
		digits[count++] = (char)('0' + value % 10);
		value /= 10;
	} while (value > 0);
	while (count > 0)
		*out++ = digits[--count];
	return out;
}

/* Async-signal-safe: open, read, write, close, signal and raise only. */
static void report_data_size(int signo)
{
	char status[4096];
	char line[128];
	char *out = line;
	const char *prefix = "out of memory: data ";
	const char *middle = " kB of its limit ";
	const char *suffix = " kB\n";
	unsigned long long data_kib = 0;
	ssize_t length = 0;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		length = read(fd, status, sizeof(status) - 1);
		close(fd);
	}
	if (length > 0) {
		status[length] = '\0';
		const char *field = strstr(status, "VmData:");
		if (field) {
			field += 7;
			while (*field == ' ' || *field == '\t')
				field++;
			while (*field >= '0' && *field <= '9')
				data_kib = data_kib * 10 + (unsigned long long)(*field++ - '0');
		}
	}
	if (data_limit_kib > 0 && data_kib * 10 >= data_limit_kib * 8) {
		for (const char *p = prefix; *p; p++)
			*out++ = *p;
		out = append_number(out, data_kib);
		for (const char *p = middle; *p; p++)
			*out++ = *p;
		out = append_number(out, data_limit_kib);
		for (const char *p = suffix; *p; p++)
			*out++ = *p;
		ssize_t ignored = write(STDERR_FILENO, line, (size_t)(out - line));
		(void)ignored;
	}
	signal(signo, SIG_DFL);
	raise(signo);
}

int bpfleet_limit_data(unsigned long long bytes)
{
	static const int signals[] = { SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP };
	struct rlimit limit = { .rlim_cur = bytes, .rlim_max = bytes };
	struct sigaction action;

	if (setrlimit(RLIMIT_DATA, &limit) != 0)
		return -1;
	data_limit_kib = bytes / 1024;
	memset(&action, 0, sizeof(action));
	action.sa_handler = report_data_size;
	action.sa_flags = SA_RESETHAND | SA_ONSTACK;
	sigemptyset(&action.sa_mask);
	for (unsigned i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &action, NULL);
	return 0;
}

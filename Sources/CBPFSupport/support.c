#define _GNU_SOURCE
#include "bpfleet_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>
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

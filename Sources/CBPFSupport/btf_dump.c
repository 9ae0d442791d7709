#define _GNU_SOURCE
#include "bpfleet_btf_dump.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/btf.h>

/* A growing text that never passes `max`. */
struct dump_text {
	char *bytes;
	size_t length;
	size_t capacity;
	size_t max;
	int error;
};

static void dump_append(struct dump_text *text, const char *format, va_list args)
{
	va_list copy;
	int needed;
	size_t want;

	if (text->error)
		return;
	va_copy(copy, args);
	needed = vsnprintf(NULL, 0, format, copy);
	va_end(copy);
	if (needed < 0) {
		text->error = -EINVAL;
		return;
	}
	if ((size_t)needed > text->max - text->length) {
		text->error = -E2BIG;
		return;
	}
	want = text->length + (size_t)needed + 1;
	if (want > text->capacity) {
		size_t capacity = text->capacity ? text->capacity : 1 << 20;
		char *grown;

		while (capacity < want)
			capacity *= 2;
		if (capacity > text->max + 1)
			capacity = text->max + 1;
		grown = realloc(text->bytes, capacity);
		if (!grown) {
			text->error = -ENOMEM;
			return;
		}
		text->bytes = grown;
		text->capacity = capacity;
	}
	vsnprintf(text->bytes + text->length, text->capacity - text->length, format, args);
	text->length += (size_t)needed;
}

static void dump_printf(void *context, const char *format, va_list args)
{
	dump_append(context, format, args);
}

static void dump_literal(struct dump_text *text, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	dump_append(text, format, args);
	va_end(args);
}

int bpfleet_btf_dump_c(const struct btf *btf, size_t max_bytes, char **out, size_t *length)
{
	struct dump_text text = { .max = max_bytes };
	struct btf_dump *dump;
	__u32 count, id;
	int err = 0;

	*out = NULL;
	*length = 0;
	dump = btf_dump__new(btf, dump_printf, &text, NULL);
	if (!dump)
		return errno ? -errno : -EINVAL;

	/* The guard and preserve_access_index pragmas bpftool's C dump
	 * writes, so that a header from either is included the same way. */
	dump_literal(&text, "#ifndef __VMLINUX_H__\n");
	dump_literal(&text, "#define __VMLINUX_H__\n");
	dump_literal(&text, "\n");
	dump_literal(&text, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n");
	dump_literal(&text, "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n");
	dump_literal(&text, "#endif\n\n");

	count = btf__type_cnt(btf);
	for (id = 1; id < count && !text.error; id++) {
		err = btf_dump__dump_type(dump, id);
		if (err)
			break;
	}

	dump_literal(&text, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n");
	dump_literal(&text, "#pragma clang attribute pop\n");
	dump_literal(&text, "#endif\n");
	dump_literal(&text, "\n");
	dump_literal(&text, "#endif /* __VMLINUX_H__ */\n");
	btf_dump__free(dump);

	if (!err)
		err = text.error;
	if (err) {
		free(text.bytes);
		return err;
	}
	*out = text.bytes;
	*length = text.length;
	return 0;
}

struct btf *bpfleet_btf_new_split(const void *data, size_t size, struct btf *base)
{
	char path[64];
	struct btf *btf;
	size_t written = 0;
	int fd, saved;

	fd = memfd_create("bpfleet-btf", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	while (written < size) {
		ssize_t count = write(fd, (const char *)data + written, size - written);

		if (count < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return NULL;
		}
		written += (size_t)count;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	btf = btf__parse_raw_split(path, base);
	saved = errno;
	close(fd);
	errno = saved;
	return btf;
}

#define _GNU_SOURCE
#include "bpfleet_perf_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

static int read_sysfs(const char *path, const char *format, int *value)
{
	FILE *file = fopen(path, "re");
	if (!file)
		return -errno;
	int matched = fscanf(file, format, value);
	fclose(file);
	return matched == 1 ? 0 : -EINVAL;
}

int bpfleet_perf_event_open_probe(const char *pmu, const char *name, unsigned long long offset, int retprobe, int pid)
{
	char path[128];
	int type, bit = 0, err;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	err = read_sysfs(path, "%d", &type);
	if (err) {
		errno = err == -ENOENT ? EOPNOTSUPP : -err;
		return -1;
	}
	if (retprobe) {
		snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/format/retprobe", pmu);
		err = read_sysfs(path, "config:%d", &bit);
		if (err) {
			errno = err == -ENOENT ? EOPNOTSUPP : -err;
			return -1;
		}
	}

	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (unsigned int)type;
	attr.config = retprobe ? 1ULL << bit : 0;
	attr.config1 = (uint64_t)(uintptr_t)name;
	attr.config2 = offset;
	return (int)syscall(__NR_perf_event_open, &attr, pid < 0 ? -1 : pid, pid < 0 ? 0 : -1, -1 /* group */,
			    PERF_FLAG_FD_CLOEXEC);
}

static int search_path_list(const char *list, const char *file, int mode, char *result, unsigned long result_size)
{
	if (!list)
		return -ENOENT;
	const char *start = list;
	while (*start) {
		const char *end = strchr(start, ':');
		size_t length = end ? (size_t)(end - start) : strlen(start);
		if (length > 0 && (size_t)snprintf(result, result_size, "%.*s/%s", (int)length, start, file) < result_size
		    && access(result, mode) == 0)
			return 0;
		if (!end)
			break;
		start = end + 1;
	}
	return -ENOENT;
}

int bpfleet_resolve_binary_path(const char *file, char *result, unsigned long result_size)
{
	size_t length = strlen(file);
	int library = (length > 3 && strcmp(file + length - 3, ".so") == 0) || strstr(file, ".so.") != NULL;
	const char *lists[3];
	if (library) {
		lists[0] = getenv("LD_LIBRARY_PATH");
		lists[1] = "/usr/lib64:/usr/lib";
#if defined(__x86_64__)
		lists[2] = "/lib/x86_64-linux-gnu";
#elif defined(__aarch64__)
		lists[2] = "/lib/aarch64-linux-gnu";
#else
		lists[2] = NULL;
#endif
	} else {
		lists[0] = getenv("PATH");
		lists[1] = "/usr/bin:/usr/sbin";
		lists[2] = NULL;
	}
	for (int i = 0; i < 3; i++) {
		if (search_path_list(lists[i], file, library ? R_OK : R_OK | X_OK, result, result_size) == 0)
			return 0;
	}
	return -ENOENT;
}

long long bpfleet_elf_function_offset(const char *path, const char *name)
{
	long long found = -ENOENT;
	size_t name_length = strlen(name);
	int qualified = strchr(name, '@') != NULL;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -EINVAL;
	}
	const Elf64_Word table_types[2] = { SHT_SYMTAB, SHT_DYNSYM };
	for (int t = 0; t < 2 && found < 0; t++) {
		int last_bind = -1;
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(elf, scn)) != NULL) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != table_types[t] || sh.sh_entsize == 0)
				continue;
			Elf_Data *symbols = elf_getdata(scn, NULL);
			if (!symbols)
				continue;
			size_t count = sh.sh_size / sh.sh_entsize;
			for (size_t i = 0; i < count; i++) {
				GElf_Sym sym;
				if (!gelf_getsym(symbols, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
					continue;
				const char *symbol = elf_strptr(elf, sh.sh_link, sym.st_name);
				if (!symbol || strncmp(symbol, name, name_length) != 0)
					continue;
				/* "foo" must not match "foo2", only "foo" and "foo@..." */
				if (!qualified && symbol[name_length] != '\0' && symbol[name_length] != '@')
					continue;
				int bind = GELF_ST_BIND(sym.st_info);
				if (found >= 0) {
					if (last_bind != STB_WEAK && bind != STB_WEAK) {
						found = -EINVAL;
						goto out;
					} else if (bind == STB_WEAK) {
						continue;
					}
				}
				Elf_Scn *sym_scn = elf_getscn(elf, sym.st_shndx);
				GElf_Shdr sym_sh;
				if (!sym_scn || !gelf_getshdr(sym_scn, &sym_sh))
					continue;
				found = (long long)(sym.st_value - sym_sh.sh_addr + sym_sh.sh_offset);
				last_bind = bind;
			}
		}
		if (found == 0)
			found = -ENOENT;
	}
out:
	elf_end(elf);
	close(fd);
	return found;
}

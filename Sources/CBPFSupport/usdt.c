#define _GNU_SOURCE
#include "bpfleet_usdt.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

/* The file offset of virtual address `address`: through the loadable
 * segment that holds it. */
static int file_offset(Elf *elf, unsigned long long address, unsigned long long *offset)
{
	size_t count, i;

	if (elf_getphdrnum(elf, &count) != 0)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		GElf_Phdr header;

		if (!gelf_getphdr(elf, (int)i, &header) || header.p_type != PT_LOAD)
			continue;
		if (address >= header.p_vaddr && address - header.p_vaddr < header.p_memsz) {
			*offset = address - header.p_vaddr + header.p_offset;
			return 0;
		}
	}
	return -ERANGE;
}

static int read_sites(Elf *elf, const char *provider, const char *name, struct bpfleet_usdt_site *sites, int capacity)
{
	size_t strings;
	Elf_Scn *section = NULL, *notes = NULL;
	unsigned long long base_section = 0;
	int have_base = 0, found = 0;
	size_t word = gelf_getclass(elf) == ELFCLASS64 ? 8 : 4;

	if (elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &strings) != 0)
		return -EINVAL;
	while ((section = elf_nextscn(elf, section)) != NULL) {
		GElf_Shdr header;
		const char *section_name;

		if (!gelf_getshdr(section, &header))
			return -EINVAL;
		section_name = elf_strptr(elf, strings, header.sh_name);
		if (!section_name)
			continue;
		if (strcmp(section_name, ".stapsdt.base") == 0) {
			base_section = header.sh_addr;
			have_base = 1;
		} else if (strcmp(section_name, ".note.stapsdt") == 0 && header.sh_type == SHT_NOTE) {
			notes = section;
		}
	}
	if (!notes)
		return 0;

	Elf_Data *data = elf_getdata(notes, NULL);
	size_t position = 0, name_at, desc_at;
	GElf_Nhdr note;

	if (!data)
		return -EINVAL;
	while ((position = gelf_getnote(data, position, &note, &name_at, &desc_at)) > 0) {
		const char *desc = (const char *)data->d_buf + desc_at;
		const char *end = desc + note.n_descsz;
		unsigned long long addresses[3] = { 0, 0, 0 };
		const char *note_provider, *note_name, *note_args;
		int i;

		if (note.n_type != 3 || note.n_namesz != 8 || memcmp((const char *)data->d_buf + name_at, "stapsdt", 8) != 0)
			continue;
		if (note.n_descsz < 3 * word + 3)
			return -EINVAL;
		for (i = 0; i < 3; i++) {
			if (word == 8) {
				uint64_t value;
				memcpy(&value, desc + i * 8, 8);
				addresses[i] = value;
			} else {
				uint32_t value;
				memcpy(&value, desc + i * 4, 4);
				addresses[i] = value;
			}
		}
		note_provider = desc + 3 * word;
		note_name = memchr(note_provider, 0, (size_t)(end - note_provider));
		if (!note_name++ || note_name >= end)
			return -EINVAL;
		note_args = memchr(note_name, 0, (size_t)(end - note_name));
		if (!note_args++ || note_args >= end || !memchr(note_args, 0, (size_t)(end - note_args)))
			return -EINVAL;
		if (strcmp(note_provider, provider) != 0 || strcmp(note_name, name) != 0)
			continue;

		/* A prelinked file moved its sections: the note keeps the
		 * .stapsdt.base address it was made against. */
		unsigned long long pc = addresses[0], semaphore = addresses[2];
		if (have_base && addresses[1] != 0) {
			pc += base_section - addresses[1];
			if (semaphore)
				semaphore += base_section - addresses[1];
		}
		if (found < capacity) {
			struct bpfleet_usdt_site *site = &sites[found];
			int rc = file_offset(elf, pc, &site->offset);

			if (rc)
				return rc;
			site->semaphore = 0;
			if (semaphore && (rc = file_offset(elf, semaphore, &site->semaphore)) != 0)
				return rc;
			snprintf(site->args, sizeof(site->args), "%s", note_args);
		}
		found++;
	}
	return found;
}

int bpfleet_usdt_sites(const char *path, const char *provider, const char *name,
		       struct bpfleet_usdt_site *sites, int capacity)
{
	int fd, rc;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf) {
		close(fd);
		return -EINVAL;
	}
	rc = read_sites(elf, provider, name, sites, capacity);
	elf_end(elf);
	close(fd);
	return rc;
}

/* The bit where the uprobe PMU takes a reference counter's offset in
 * `config` (format/ref_ctr_offset: "config:32-63"), or -1. */
static int ref_ctr_shift(void)
{
	FILE *file = fopen("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset", "re");
	int shift = -1;

	if (!file)
		return -1;
	if (fscanf(file, "config:%d", &shift) != 1)
		shift = -1;
	fclose(file);
	return shift;
}

int bpfleet_perf_event_open_usdt(const char *path, unsigned long long offset, unsigned long long semaphore, int pid)
{
	struct perf_event_attr attr;
	FILE *file;
	int type = -1, shift = 0;

	file = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
	if (!file || fscanf(file, "%d", &type) != 1) {
		if (file)
			fclose(file);
		errno = EOPNOTSUPP;
		return -1;
	}
	fclose(file);
	if (semaphore && (shift = ref_ctr_shift()) < 0) {
		errno = EOPNOTSUPP;
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (unsigned int)type;
	attr.config = semaphore ? semaphore << shift : 0;
	attr.config1 = (uint64_t)(uintptr_t)path;
	attr.config2 = offset;
	return (int)syscall(__NR_perf_event_open, &attr, pid < 0 ? -1 : pid, pid < 0 ? 0 : -1, -1, PERF_FLAG_FD_CLOEXEC);
}

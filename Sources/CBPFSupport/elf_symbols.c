#define _GNU_SOURCE
#include "bpfleet_elf_symbols.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

void bpfleet_elf_symbols_free(struct bpfleet_elf_symbols *symbols)
{
	free(symbols->functions);
	free(symbols->names);
	free(symbols->segments);
	memset(symbols, 0, sizeof(*symbols));
}

static int add_name(struct bpfleet_elf_symbols *out, size_t *capacity, const char *name, size_t max_names, unsigned int *at)
{
	size_t length = strnlen(name, 4096);
	if (out->names_size + length + 1 > max_names)
		return -E2BIG;
	if (out->names_size + length + 1 > *capacity) {
		size_t grown = *capacity ? *capacity * 2 : 4096;
		while (grown < out->names_size + length + 1)
			grown *= 2;
		char *names = realloc(out->names, grown);
		if (!names)
			return -ENOMEM;
		out->names = names;
		*capacity = grown;
	}
	*at = (unsigned int)out->names_size;
	memcpy(out->names + out->names_size, name, length);
	out->names[out->names_size + length] = '\0';
	out->names_size += length + 1;
	return 0;
}

static int read_functions(Elf *elf, struct bpfleet_elf_symbols *out, size_t max_functions, size_t max_names)
{
	size_t function_capacity = 0, name_capacity = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || sh.sh_entsize == 0)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		size_t count = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < count && i <= (size_t)0x7fffffff; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
			    sym.st_value == 0)
				continue;
			const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			if (out->function_count >= max_functions)
				return -E2BIG;
			if (out->function_count == function_capacity) {
				size_t grown = function_capacity ? function_capacity * 2 : 256;
				struct bpfleet_elf_function *functions = realloc(out->functions, grown * sizeof(*functions));
				if (!functions)
					return -ENOMEM;
				out->functions = functions;
				function_capacity = grown;
			}
			struct bpfleet_elf_function *function = &out->functions[out->function_count];
			int err = add_name(out, &name_capacity, name, max_names, &function->name);
			if (err)
				return err;
			function->address = sym.st_value;
			function->size = sym.st_size;
			out->function_count++;
		}
	}
	return 0;
}

static int read_segments(Elf *elf, struct bpfleet_elf_symbols *out)
{
	size_t count = 0;
	if (elf_getphdrnum(elf, &count) != 0)
		return -EINVAL;
	if (count > 4096)
		return -E2BIG;
	out->segments = calloc(count ? count : 1, sizeof(*out->segments));
	if (!out->segments)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		struct bpfleet_elf_segment *segment = &out->segments[out->segment_count++];
		segment->offset = ph.p_offset;
		segment->vaddr = ph.p_vaddr;
		segment->size = ph.p_filesz;
	}
	return 0;
}

static void read_build_id(Elf *elf, struct bpfleet_elf_symbols *out)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		size_t offset = 0, name_at, desc_at;
		GElf_Nhdr note;
		while ((offset = gelf_getnote(data, offset, &note, &name_at, &desc_at)) > 0) {
			if (note.n_type != NT_GNU_BUILD_ID || note.n_namesz != 4 || desc_at + note.n_descsz > data->d_size ||
			    name_at + 4 > data->d_size || memcmp((char *)data->d_buf + name_at, "GNU", 4) != 0)
				continue;
			size_t size = note.n_descsz < sizeof(out->build_id) ? note.n_descsz : sizeof(out->build_id);
			memcpy(out->build_id, (char *)data->d_buf + desc_at, size);
			out->build_id_size = size;
			return;
		}
	}
}

int bpfleet_elf_symbols_read(int fd, size_t max_functions, size_t max_names, struct bpfleet_elf_symbols *out)
{
	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		return -EINVAL;
	}
	int err = read_functions(elf, out, max_functions, max_names);
	if (!err)
		err = read_segments(elf, out);
	if (!err)
		read_build_id(elf, out);
	elf_end(elf);
	return err;
}

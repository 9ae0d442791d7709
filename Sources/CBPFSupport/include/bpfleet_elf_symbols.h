#ifndef BPFLEET_ELF_SYMBOLS_H
#define BPFLEET_ELF_SYMBOLS_H

#include <stddef.h>

/* What a user stack's addresses are read against: an ELF file's function
 * symbols, where its executable segments sit in the file, and its GNU
 * build id. Read with libelf; the file may be anyone's, so every count is
 * bounded and every table checked before it is read. */

struct bpfleet_elf_function {
	unsigned long long address; /* st_value: a virtual address in the file's own terms */
	unsigned long long size;    /* st_size; 0 when unknown */
	unsigned int name;          /* offset of the NUL-terminated name in `names` */
};

struct bpfleet_elf_segment {
	unsigned long long offset;  /* p_offset */
	unsigned long long vaddr;   /* p_vaddr */
	unsigned long long size;    /* p_filesz */
};

struct bpfleet_elf_symbols {
	struct bpfleet_elf_function *functions;
	size_t function_count;
	char *names;
	size_t names_size;
	struct bpfleet_elf_segment *segments;
	size_t segment_count;
	unsigned char build_id[64];
	size_t build_id_size;
};

/* Reads the STT_FUNC symbols of .symtab and .dynsym (defined ones, at most
 * `max_functions`, names at most `max_names` bytes in all), the executable
 * PT_LOAD segments and the NT_GNU_BUILD_ID note of the ELF file open at
 * `fd`. 0, or -errno (-EINVAL: not an ELF file libelf reads; -E2BIG: past
 * a bound). Free with bpfleet_elf_symbols_free, whatever it answered. */
int bpfleet_elf_symbols_read(int fd, size_t max_functions, size_t max_names, struct bpfleet_elf_symbols *out);
void bpfleet_elf_symbols_free(struct bpfleet_elf_symbols *symbols);

#endif

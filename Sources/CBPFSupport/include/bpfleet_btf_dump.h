#ifndef BPFLEET_BTF_DUMP_H
#define BPFLEET_BTF_DUMP_H

#include <stddef.h>

struct btf;

/* The C header of `btf` that a CO-RE build includes, as
 * `bpftool btf dump file ... format c` (bpftool 7.1) writes it: the
 * __VMLINUX_H__ guard, preserve_access_index pushed over every record,
 * every type from id 1 through libbpf's btf_dump, the pop and the endif.
 * On success returns 0 and sets *out (malloc'd, free() it) and *length;
 * -E2BIG when the text would pass `max_bytes`, -ENOMEM, or libbpf's
 * negative error. */
int bpfleet_btf_dump_c(const struct btf *btf, size_t max_bytes, char **out, size_t *length);

/* btf__new_split (which this libbpf does not export): `data`'s split BTF
 * on top of `base`, parsed by libbpf from a memfd holding those bytes (so
 * that what is parsed is what was hashed). NULL with errno set. */
struct btf *bpfleet_btf_new_split(const void *data, size_t size, struct btf *base);

#endif

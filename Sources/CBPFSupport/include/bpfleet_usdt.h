#ifndef BPFLEET_USDT_H
#define BPFLEET_USDT_H

/* A USDT call site (a systemtap SDT note): where its instruction and its
 * semaphore are in the file, and how its arguments are found. */
struct bpfleet_usdt_site {
	unsigned long long offset;    /* file offset of the probe's instruction */
	unsigned long long semaphore; /* file offset of its semaphore; 0: none */
	char args[256];               /* "-4@%eax 8@-8(%rbp) 4@$5", truncated */
};

/* The call sites of USDT probe provider:name in the ELF file at path (its
 * .note.stapsdt notes), at most capacity of them into sites. Returns how
 * many there are (more than capacity when they did not all fit), or
 * -errno: -ENOENT (no file), -EINVAL (not an ELF file, or a note that
 * does not read), -ERANGE (an address in no loadable segment). */
int bpfleet_usdt_sites(const char *path, const char *provider, const char *name,
		       struct bpfleet_usdt_site *sites, int capacity);

/* perf_event_open(2) of a uprobe at `offset` of `path` with the kernel
 * keeping the reference counter (semaphore) at file offset `semaphore`
 * (0: none) counted, for `pid` (-1: every process). The descriptor, or -1
 * with errno set (EOPNOTSUPP: no uprobe PMU, or a semaphore and no
 * ref_ctr_offset support). */
int bpfleet_perf_event_open_usdt(const char *path, unsigned long long offset, unsigned long long semaphore, int pid);

#endif

#ifndef BPFLEET_PERF_PROBE_H
#define BPFLEET_PERF_PROBE_H

/* What libbpf's bpf_program__attach_uprobe_opts / _kprobe_opts do before
 * BPF_LINK_CREATE, for programs bpfleetd holds only by a pinned descriptor
 * (an adopted probe), which libbpf's attach functions cannot take. */

/* perf_event_open(2) on the `pmu` ("uprobe" or "kprobe") dynamic PMU:
 * type from /sys/bus/event_source/devices/PMU/type, the retprobe bit from
 * .../format/retprobe, config1 = `name` (a binary's path, or a kernel
 * function), config2 = `offset`. `pid` -1 is every process (opened on
 * CPU 0: a BPF program on the probe runs on every CPU, as libbpf does).
 * The descriptor, or -1 with errno set (ENOENT/EOPNOTSUPP: no such PMU). */
int bpfleet_perf_event_open_probe(const char *pmu, const char *name, unsigned long long offset, int retprobe, int pid);

/* libbpf's resolve_full_path: a binary named without a '/' is looked up in
 * PATH and /usr/bin:/usr/sbin, a shared library (NAME.so, NAME.so.N) in
 * LD_LIBRARY_PATH, /usr/lib64:/usr/lib and the architecture's library
 * directory. 0 with the path in `result`, or -ENOENT. */
int bpfleet_resolve_binary_path(const char *file, char *result, unsigned long result_size);

/* libbpf's elf_find_func_offset: the file offset of the function `name`
 * (or `name@VERSION`, `name@@VERSION`) in the ELF file at `path`, from
 * .symtab, else .dynsym: the symbol's value → its section → value -
 * sh_addr + sh_offset. One non-weak definition wins over weak ones. The
 * offset (> 0), or -ENOENT (no such function), -EINVAL (not an ELF file
 * or two non-weak definitions), or another -errno. */
long long bpfleet_elf_function_offset(const char *path, const char *name);

#endif

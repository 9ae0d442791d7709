/* attach_libbpf OBJECT PROGRAM PINDIR TARGET...: the plain-libbpf side of
 * the attach benchmark. What bpfleetd does for probe.load + probe.attach,
 * without the server: bpf_object__open_mem of the object (read into memory
 * first, untimed, as bpfleetd has it uploaded already), only PROGRAM
 * autoloaded, load, pin every map at PINDIR/maps/NAME (.bss as _bss) and
 * every loaded program at PINDIR/programs/NAME, then the same attach
 * bpfleetd makes for the target and the link pinned at PINDIR/links/1
 * (perf_event: PINDIR/links/1/cpuN, one per online CPU). Timed from before
 * the open to after the last pin. Then, untimed, everything is unpinned,
 * detached and closed. No desired-state file is written (bpfleetd writes
 * one, with fsync, per load and per attach).
 * TARGET: tracepoint CAT NAME | raw_tracepoint NAME | tp_btf | uprobe BINARY SYMBOL
 *       | xdp IFACE | tc IFACE ingress|egress | cgroup PATH egress|sock_create
 *       | perf_event FREQUENCY (cpu-clock on every online CPU)
 * With --warm first, the same object is opened, loaded and closed once
 * before, untimed: libbpf's kernel feature probes (cached per process) are
 * then done, as they are in a long-running bpfleetd; without it the timed
 * run pays them, as a one-shot tool does.
 * Prints "load_ms=L attach_ms=A total_ms=T". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"

#define TCX_INGRESS 46 /* BPF_TCX_INGRESS / BPF_TCX_EGRESS (6.6), not in libbpf 1.1's headers */
#define TCX_EGRESS 47
#define MAX_LINKS 256

static void fail(const char *what)
{
	fprintf(stderr, "attach_libbpf: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail(path);
	fseek(f, 0, SEEK_END);
	*size = ftell(f);
	rewind(f);
	char *data = malloc(*size);
	if (fread(data, 1, *size, f) != *size)
		fail(path);
	fclose(f);
	return data;
}

int main(int argc, char **argv)
{
	bool warm = argc > 1 && strcmp(argv[1], "--warm") == 0;
	if (warm) {
		argc--;
		argv++;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: attach_libbpf [--warm] OBJECT PROGRAM PINDIR TARGET...\n");
		return 2;
	}
	const char *program_name = argv[2], *dir = argv[3], *type = argv[4];
	size_t size;
	char *data = read_file(argv[1], &size);
	char path[4096];
	int link_fds[MAX_LINKS], perf_fds[MAX_LINKS], nlinks = 0, nperf = 0;
	struct bpf_link *links[MAX_LINKS];
	int nlibbpf_links = 0;

	if (warm) {
		LIBBPF_OPTS(bpf_object_open_opts, warm_opts, .object_name = argv[2]);
		struct bpf_object *first = bpf_object__open_mem(data, size, &warm_opts);
		struct bpf_program *q;
		if (!first)
			fail("bpf_object__open_mem (warm-up)");
		bpf_object__for_each_program(q, first) bpf_program__set_autoload(q, strcmp(bpf_program__name(q), argv[2]) == 0);
		if (bpf_object__load(first))
			fail("bpf_object__load (warm-up)");
		bpf_object__close(first);
	}

	double start = now_ms();
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = program_name);
	struct bpf_object *obj = bpf_object__open_mem(data, size, &open_opts);
	if (!obj)
		fail("bpf_object__open_mem");
	struct bpf_program *prog = NULL, *p;
	bpf_object__for_each_program(p, obj) {
		if (strcmp(bpf_program__name(p), program_name) == 0)
			prog = p;
		else
			bpf_program__set_autoload(p, false);
	}
	if (!prog) {
		errno = ENOENT;
		fail(program_name);
	}
	if (bpf_object__load(obj))
		fail("bpf_object__load");
	if (mkdir(dir, 0700) || snprintf(path, sizeof(path), "%s/maps", dir) < 0 || mkdir(path, 0700))
		fail("mkdir PINDIR/maps");
	snprintf(path, sizeof(path), "%s/links", dir);
	if (mkdir(path, 0700))
		fail("mkdir PINDIR/links");
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		/* .bss, .data, .rodata (libbpf names them OBJ.bss, ...) pin as _bss, ... */
		const char *name = bpf_map__name(map), *dot = strchr(name, '.');
		if (bpf_map__is_internal(map) && dot)
			snprintf(path, sizeof(path), "%s/maps/_%s", dir, dot + 1);
		else
			snprintf(path, sizeof(path), "%s/maps/%s", dir, name);
		if (bpf_map__pin(map, path))
			fail(path);
	}
	snprintf(path, sizeof(path), "%s/programs", dir);
	if (mkdir(path, 0700))
		fail("mkdir PINDIR/programs");
	snprintf(path, sizeof(path), "%s/programs/%s", dir, program_name);
	if (bpf_obj_pin(bpf_program__fd(prog), path))
		fail(path);
	double loaded = now_ms();

	int prog_fd = bpf_program__fd(prog);
	struct bpf_link *link = NULL;
	if (strcmp(type, "tracepoint") == 0 && argc > 6) {
		link = bpf_program__attach_tracepoint(prog, argv[5], argv[6]);
	} else if (strcmp(type, "raw_tracepoint") == 0 && argc > 5) {
		link = bpf_program__attach_raw_tracepoint(prog, argv[5]);
	} else if (strcmp(type, "tp_btf") == 0) {
		link = bpf_program__attach_trace(prog);
	} else if (strcmp(type, "uprobe") == 0 && argc > 6) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = argv[6]);
		link = bpf_program__attach_uprobe_opts(prog, -1, argv[5], 0, &opts);
	} else if (strcmp(type, "xdp") == 0 && argc > 5) {
		LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = 0);
		link_fds[nlinks++] = bpf_link_create(prog_fd, if_nametoindex(argv[5]), BPF_XDP, &opts);
	} else if (strcmp(type, "tc") == 0 && argc > 6) {
		LIBBPF_OPTS(bpf_link_create_opts, opts);
		link_fds[nlinks++] = bpf_link_create(prog_fd, if_nametoindex(argv[5]),
						     strcmp(argv[6], "egress") ? TCX_INGRESS : TCX_EGRESS, &opts);
	} else if (strcmp(type, "cgroup") == 0 && argc > 6) {
		int cgroup = open(argv[5], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgroup < 0)
			fail(argv[5]);
		LIBBPF_OPTS(bpf_link_create_opts, opts);
		link_fds[nlinks++] = bpf_link_create(prog_fd, cgroup,
						     strcmp(argv[6], "egress") ? BPF_CGROUP_INET_SOCK_CREATE : BPF_CGROUP_INET_EGRESS, &opts);
		close(cgroup);
	} else if (strcmp(type, "perf_event") == 0 && argc > 5) {
		/* As bpfleetd: one sampling cpu-clock event per online CPU, each
		 * with its own link, pinned in a directory. */
		snprintf(path, sizeof(path), "%s/links/1", dir);
		if (mkdir(path, 0700))
			fail(path);
		int cpus = libbpf_num_possible_cpus();
		for (int cpu = 0; cpu < cpus && nlibbpf_links < MAX_LINKS; cpu++) {
			struct perf_event_attr attr = {.size = sizeof(attr), .type = PERF_TYPE_SOFTWARE,
						       .config = PERF_COUNT_SW_CPU_CLOCK, .freq = 1,
						       .sample_freq = strtoull(argv[5], NULL, 10)};
			int fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
			if (fd < 0 && errno == ENODEV)
				continue; /* offline */
			if (fd < 0)
				fail("perf_event_open");
			perf_fds[nperf++] = fd;
			struct bpf_link *l = bpf_program__attach_perf_event(prog, fd);
			if (!l)
				fail("bpf_program__attach_perf_event");
			snprintf(path, sizeof(path), "%s/links/1/cpu%d", dir, cpu);
			if (bpf_link__pin(l, path))
				fail(path);
			links[nlibbpf_links++] = l;
		}
	} else {
		fprintf(stderr, "attach_libbpf: unknown or incomplete target '%s'\n", type);
		return 2;
	}
	if (strcmp(type, "perf_event") != 0) {
		snprintf(path, sizeof(path), "%s/links/1", dir);
		if (nlinks) {
			if (link_fds[0] < 0) {
				errno = -link_fds[0];
				fail("bpf_link_create");
			}
			if (bpf_obj_pin(link_fds[0], path))
				fail(path);
		} else {
			if (!link)
				fail("attach");
			if (bpf_link__pin(link, path))
				fail(path);
			links[nlibbpf_links++] = link;
		}
	}
	double end = now_ms();
	printf("load_ms=%.3f attach_ms=%.3f total_ms=%.3f\n", loaded - start, end - loaded, end - start);
	fflush(stdout);

	/* Untimed: detach and unpin everything, as probe.unload does. */
	for (int i = 0; i < nlibbpf_links; i++) {
		bpf_link__unpin(links[i]);
		bpf_link__destroy(links[i]);
	}
	for (int i = 0; i < nperf; i++)
		close(perf_fds[i]);
	snprintf(path, sizeof(path), "%s/links/1", dir);
	if (nlinks) {
		unlink(path);
		close(link_fds[0]);
	}
	rmdir(path);
	bpf_object__for_each_map(map, obj) bpf_map__unpin(map, NULL);
	snprintf(path, sizeof(path), "%s/programs/%s", dir, program_name);
	unlink(path);
	const char *subdirs[] = {"programs", "maps", "links"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		rmdir(path);
	}
	if (rmdir(dir))
		fail("rmdir PINDIR (something is still pinned)");
	bpf_object__close(obj);
	free(data);
	return 0;
}

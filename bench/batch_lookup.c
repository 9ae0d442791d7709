/* batch_lookup PIN [REPS] [BATCH]: the floor for a snapshot: BPF_MAP_LOOKUP_BATCH
 * over the whole pinned map and nothing else (no encoding, no output), with
 * buffers for its key and value sizes (a hash or array map, not per-CPU).
 * BATCH defaults to 16384 entries, what bpfleetd's MapCursor uses for 12-byte
 * entries. Prints one line per repetition: "ms=T entries=N". */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PIN [REPS] [BATCH]\n", argv[0]);
		return 2;
	}
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	uint32_t batch = argc > 3 ? (uint32_t)atoi(argv[3]) : 16384;
	int fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "batch_lookup: bpf_obj_get %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct bpf_map_info info = {};
	uint32_t info_size = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &info_size)) {
		fprintf(stderr, "batch_lookup: map info: %s\n", strerror(errno));
		return 1;
	}
	void *keys = malloc((size_t)batch * info.key_size);
	void *values = malloc((size_t)batch * info.value_size);
	if (!keys || !values) {
		fprintf(stderr, "batch_lookup: out of memory\n");
		return 1;
	}
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	for (int rep = 0; rep < reps; rep++) {
		uint64_t token[8] = {0}; /* hash maps: a bucket index; arrays: a key */
		long entries = 0;
		double start = now_ms();
		for (int first = 1;; first = 0) {
			uint32_t count = batch;
			int rc = bpf_map_lookup_batch(fd, first ? NULL : token, token, keys, values, &count, &opts);
			if (rc && errno != ENOENT) {
				fprintf(stderr, "batch_lookup: %s\n", strerror(errno));
				return 1;
			}
			entries += count;
			if (rc)
				break; /* ENOENT: the walk is over */
		}
		double ms = now_ms() - start;
		printf("ms=%.3f entries=%ld\n", ms, entries);
	}
	return 0;
}

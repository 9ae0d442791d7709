/* churn_map PIN N CHANGES INTERVAL_MS SECONDS: every INTERVAL_MS, adds 1
 * to CHANGES distinct random entries of the N filled by `fill_map PIN N`
 * (keys bench_key(0..N-1), common.h), as counters change: each value read
 * with a lookup, all of them written in one BPF_MAP_UPDATE_BATCH call, for
 * SECONDS. With N 10,000, CHANGES 100 and INTERVAL_MS 100, 1% of the map
 * changes per 100 ms: what the map watch benchmark compares delta mode's
 * bytes on. Every chosen entry really changes (even on a map an earlier run
 * changed), and keeps about as many digits. Prints "rounds=R changes=C". */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s PIN N CHANGES INTERVAL_MS SECONDS\n", argv[0]);
		return 2;
	}
	long n = strtol(argv[2], NULL, 10), changes = strtol(argv[3], NULL, 10);
	double interval = strtod(argv[4], NULL), seconds = strtod(argv[5], NULL);
	if (n < 1 || changes < 1 || changes > n || interval <= 0) {
		fprintf(stderr, "churn_map: N >= CHANGES >= 1, INTERVAL_MS > 0\n");
		return 2;
	}
	int fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "churn_map: bpf_obj_get %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	uint32_t *keys = malloc(changes * sizeof(*keys));
	uint64_t *values = malloc(changes * sizeof(*values));
	uint32_t *order = malloc(n * sizeof(*order));
	for (long i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	srand(42);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	double start = now_ms();
	long rounds = 0, total = 0;
	for (long round = 1; (round - 1) * interval < seconds * 1000; round++) {
		double due = start + (round - 1) * interval;
		double wait = due - now_ms();
		if (wait > 0) {
			struct timespec ts = {.tv_sec = (time_t)(wait / 1000),
					      .tv_nsec = (long)((wait - (time_t)(wait / 1000) * 1000) * 1e6)};
			nanosleep(&ts, NULL);
		}
		/* CHANGES distinct indices: the head of a partial Fisher-Yates shuffle. */
		for (long j = 0; j < changes; j++) {
			long k = j + (long)(((uint64_t)rand() * (uint64_t)RAND_MAX + (uint64_t)rand()) % (uint64_t)(n - j));
			uint32_t t = order[j];
			order[j] = order[k];
			order[k] = t;
			keys[j] = bench_key(order[j]);
			if (bpf_map_lookup_elem(fd, &keys[j], &values[j])) {
				fprintf(stderr, "churn_map: lookup of key %u: %s\n", keys[j], strerror(errno));
				return 1;
			}
			values[j]++;
		}
		uint32_t count = (uint32_t)changes;
		if (bpf_map_update_batch(fd, keys, values, &count, &opts) || count != (uint32_t)changes) {
			fprintf(stderr, "churn_map: update batch: %s (%u of %ld)\n", strerror(errno), count, changes);
			return 1;
		}
		rounds++;
		total += changes;
	}
	printf("rounds=%ld changes=%ld\n", rounds, total);
	return 0;
}

/* fill_map PIN N: fills the pinned u32 -> u64 map with entries 0..N-1 of the
 * bench pattern (common.h) in BPF_MAP_UPDATE_BATCH calls, then prints
 * "count=N key_sum=S value_sum=S" for the correctness check. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PIN N\n", argv[0]);
		return 2;
	}
	long n = strtol(argv[2], NULL, 10);
	int fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "fill_map: bpf_obj_get %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	enum { CHUNK = 65536 };
	uint32_t *keys = malloc(CHUNK * sizeof(*keys));
	uint64_t *values = malloc(CHUNK * sizeof(*values));
	unsigned __int128 key_sum = 0, value_sum = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	for (long start = 0; start < n; start += CHUNK) {
		uint32_t count = n - start < CHUNK ? (uint32_t)(n - start) : CHUNK;
		for (uint32_t j = 0; j < count; j++) {
			keys[j] = bench_key((uint32_t)(start + j));
			values[j] = bench_value((uint32_t)(start + j));
			key_sum += keys[j];
			value_sum += values[j];
		}
		uint32_t done = count;
		if (bpf_map_update_batch(fd, keys, values, &done, &opts) || done != count) {
			fprintf(stderr, "fill_map: update batch at %ld: %s (%u of %u)\n", start, strerror(errno), done, count);
			return 1;
		}
	}
	printf("count=%ld key_sum=", n);
	print_u128(stdout, key_sum);
	printf(" value_sum=");
	print_u128(stdout, value_sum);
	printf("\n");
	return 0;
}

/* jansson_encode [N] [REPS]: the same N entries as bench/encoders, encoded
 * with libjansson: a json_array of json_pack("{s:I,s:I}") objects, then
 * json_dumps(JSON_COMPACT). Times build + dump (and each part); prints
 *   encoder=jansson reps=R median_ms=.. min_ms=.. bytes=B mb_per_s=.. fnv=HASH build_ms=.. dump_ms=..
 * json_int_t is signed 64-bit: fine for the bench values (< 2^63). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	uint32_t *keys = malloc(n * sizeof(*keys));
	uint64_t *values = malloc(n * sizeof(*values));
	for (long i = 0; i < n; i++) {
		keys[i] = bench_key((uint32_t)i);
		values[i] = bench_value((uint32_t)i);
	}
	double *total = malloc(reps * sizeof(double)), *build = malloc(reps * sizeof(double)),
	       *dump = malloc(reps * sizeof(double));
	size_t bytes = 0;
	uint64_t hash = 0;
	for (int rep = 0; rep < reps; rep++) {
		double t0 = now_ms();
		json_t *array = json_array();
		for (long i = 0; i < n; i++)
			json_array_append_new(array, json_pack("{s:I,s:I}", "key", (json_int_t)keys[i],
							       "value", (json_int_t)values[i]));
		double t1 = now_ms();
		char *text = json_dumps(array, JSON_COMPACT);
		double t2 = now_ms();
		json_decref(array);
		total[rep] = t2 - t0;
		build[rep] = t1 - t0;
		dump[rep] = t2 - t1;
		bytes = strlen(text);
		hash = 0xcbf29ce484222325ull;
		for (size_t i = 0; i < bytes; i++)
			hash = (hash ^ (unsigned char)text[i]) * 0x100000001b3ull;
		free(text);
	}
	qsort(total, reps, sizeof(double), by_value);
	qsort(build, reps, sizeof(double), by_value);
	qsort(dump, reps, sizeof(double), by_value);
	double median = total[reps / 2];
	printf("encoder=jansson reps=%d median_ms=%.1f min_ms=%.1f bytes=%zu mb_per_s=%.0f fnv=%016llx build_ms=%.1f dump_ms=%.1f\n",
	       reps, median, total[0], bytes, bytes / 1e6 / (median / 1e3), (unsigned long long)hash,
	       build[reps / 2], dump[reps / 2]);
	return 0;
}

/* Shared bits of the bench tools: the fill pattern and a monotonic clock. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Entry i (0 <= i < n) of the benchmark map. Keys are spread over the whole
 * u32 range (multiplying by an odd constant is a bijection mod 2^32, so they
 * are distinct) and values cover 1 to 16 decimal digits, like real counters. */
static inline uint32_t bench_key(uint32_t i) { return i * 2654435761u; }
static inline uint64_t bench_value(uint32_t i)
{
	static const uint64_t scale[8] = {1, 10, 1000, 100000, 10000000ull, 1000000000ull,
					  100000000000ull, 1000000000000ull};
	return (uint64_t)i * 7919u % 1000 + (uint64_t)(i % 997) * scale[i % 8];
}

static inline double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Decimal text of an unsigned 128-bit number (sums of a million u64s). */
static inline void print_u128(FILE *out, unsigned __int128 v)
{
	char buf[48];
	int i = sizeof(buf) - 1;
	buf[i] = 0;
	do {
		buf[--i] = '0' + (int)(v % 10);
		v /= 10;
	} while (v);
	fputs(buf + i, out);
}
#endif

/* open_libbpf FILE ROUNDS: what libbpf takes to open an object in-process
 * and list what object.upload describes (programs with their sections,
 * types and sizes; maps with their types, sizes and BTF type ids), the
 * median over ROUNDS in ms on stdout: the other side of bench/measurements/object_upload.py. */
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	FILE *file;
	char *image;
	long size;
	int rounds, i;
	double *times;
	unsigned long sink = 0;

	if (argc != 3 || (rounds = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: open_libbpf FILE ROUNDS\n");
		return 2;
	}
	file = fopen(argv[1], "rb");
	if (!file || fseek(file, 0, SEEK_END) || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET))
		return 1;
	image = malloc(size);
	times = calloc(rounds, sizeof(*times));
	if (!image || !times || fread(image, 1, size, file) != (size_t)size)
		return 1;
	fclose(file);
	libbpf_set_print(NULL);
	for (i = 0; i < rounds; i++) {
		double start = now_ms();
		struct bpf_object *object = bpf_object__open_mem(image, size, NULL);
		struct bpf_program *program;
		struct bpf_map *map;

		if (!object)
			return 1;
		bpf_object__for_each_program(program, object)
			sink += bpf_program__insn_cnt(program) + bpf_program__type(program) +
				(unsigned long)bpf_program__section_name(program)[0];
		bpf_object__for_each_map(map, object)
			sink += bpf_map__key_size(map) + bpf_map__value_size(map) + bpf_map__max_entries(map) +
				bpf_map__btf_key_type_id(map) + bpf_map__btf_value_type_id(map);
		bpf_object__close(object);
		times[i] = now_ms() - start;
	}
	qsort(times, rounds, sizeof(*times), compare);
	printf("%.3f %lu\n", times[rounds / 2], sink % 2);
	return 0;
}

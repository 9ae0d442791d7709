#ifndef BPFLEET_FUZZ_DRIVER_H
#define BPFLEET_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/* One fuzz input: libFuzzer's LLVMFuzzerTestOneInput signature. */
typedef int (*bpfleet_fuzz_test_one)(const uint8_t *data, size_t size);

/* Runs libFuzzer with the process's arguments, handing every input to
 * `test_one`; returns libFuzzer's exit status. */
int bpfleet_fuzz_run(int argc, char **argv, bpfleet_fuzz_test_one test_one);

#endif

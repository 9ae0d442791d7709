#include "fuzz_driver.h"

/* SwiftPM links an executable's main from its Swift entry point, over
 * libFuzzer's own main; the Swift main calls in here, and libFuzzer runs
 * from its driver instead. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*user_callback)(const uint8_t *data, size_t size));

static bpfleet_fuzz_test_one current;

/* libFuzzer's main (linked, if unused) names this symbol. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return current ? current(data, size) : 0;
}

int bpfleet_fuzz_run(int argc, char **argv, bpfleet_fuzz_test_one test_one)
{
	current = test_one;
	return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

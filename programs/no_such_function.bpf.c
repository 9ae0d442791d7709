/* A test fixture whose section names a BTF tracepoint no kernel has: libbpf
 * cannot find its BTF type, so the program cannot load here. */
#include "common.h"

SEC("tp_btf/bpfleet_no_such_tracepoint")
int on_nothing_btf(void *ctx)
{
	return 0;
}

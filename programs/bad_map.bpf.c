/* A test fixture the kernel cannot load: a hash map with a key of 0 bytes,
 * which libbpf opens and the kernel refuses to create (EINVAL). */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__uint(key_size, 0);
	__uint(value_size, sizeof(__u64));
} keyless SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int never_loaded(void *ctx)
{
	return 0;
}

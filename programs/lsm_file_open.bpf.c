/* Counts file opens from the BPF LSM hook; allows every open. Needs
 * CONFIG_BPF_LSM and "bpf" in the kernel's lsm= list: bpfleetd answers
 * -32008 naming "lsm (CONFIG_BPF_LSM / lsm=bpf)" where it is missing. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lsm_opens SEC(".maps");

SEC("lsm/file_open")
int BPF_PROG(count_file_open, struct file *file)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&lsm_opens, &zero);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

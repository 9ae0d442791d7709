/* Iterators, as `bpftool iter pin` runs them: tasks as text and the
 * kernel's BPF maps as binary records. Read with iter.read (bpfleet iter
 * read). map_elem_iter.bpf.c walks one map's elements. */
#include "common.h"

/* One record per map: what dump_maps writes with bpf_seq_write. */
struct map_record {
	__u32 id;
	__u32 max_entries;
	char name[16];
};

/* Every task: "TGID TID COMM". */
SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->tgid, task->pid, task->comm);
	return 0;
}

SEC("iter/bpf_map")
int dump_maps(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;
	struct map_record record = {};

	if (!map)
		return 0;
	record.id = map->id;
	record.max_entries = map->max_entries;
	bpf_probe_read_kernel_str(record.name, sizeof(record.name), map->name);
	bpf_seq_write(seq, &record, sizeof(record));
	return 0;
}

/* Keeps struct map_record in the object's BTF (a type used only inside a
 * program is not described; a function's parameter is). */
__attribute__((noinline)) int keep_record_type(struct map_record *record)
{
	return record ? 0 : 1;
}

import CLibBPF
import Glibc

/// A BPF filter on an interface's clsact qdisc (`tc filter add ... bpf da`),
/// the tc hook of kernels without tcx links. Not a bpf_link: the kernel
/// keeps the filter, and the program in it, until someone deletes it by
/// interface, direction, handle and priority, which this value remembers.
/// BPFLink owns it and deletes the filter when it is dropped unpinned.
///
/// The clsact qdisc is created when missing and left in place afterwards:
/// other filters (tc's own, another tool's) may hang off it.
struct ClassicTCFilter: @unchecked Sendable {
    var ifindex: Int32
    var egress: Bool
    var handle: UInt32
    var priority: UInt32
    /// The program's descriptor, owned by the probe's object (for pinning).
    var programFD: Int32

    private static func hook(ifindex: Int32, egress: Bool) -> bpf_tc_hook {
        var hook = bpf_tc_hook()
        hook.sz = libbpfOptionsSize(\bpf_tc_hook.parent)
        hook.ifindex = ifindex
        hook.attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS
        return hook
    }

    /// Adds the filter; nil with errno set when the kernel refuses.
    static func attach(programFD: Int32, ifindex: Int32, egress: Bool, priority: UInt32?) -> ClassicTCFilter? {
        var hook = hook(ifindex: ifindex, egress: egress)
        let created = bpf_tc_hook_create(&hook)
        guard created == 0 || created == -EEXIST else {
            errno = -created
            return nil
        }
        var opts = bpf_tc_opts()
        opts.sz = libbpfOptionsSize(\bpf_tc_opts.priority)
        opts.prog_fd = programFD
        opts.priority = priority ?? 0
        let rc = bpf_tc_attach(&hook, &opts)
        guard rc == 0 else {
            errno = -rc
            return nil
        }
        return ClassicTCFilter(ifindex: ifindex, egress: egress, handle: opts.handle, priority: opts.priority, programFD: programFD)
    }

    /// The filter an earlier bpfleetd added for the program `programFD`
    /// holds (adoption after a restart: the filter is no link and has no
    /// pin of its own, docs/state-and-pins.md), or nil when the interface's
    /// hook has no such filter. The desired state keeps the interface, the
    /// direction and the priority the operator gave; the handle is the one
    /// the kernel chose (the lowest free, so a few are tried). Without a
    /// priority (a kernel without tcx) the kernel chose that too, counting
    /// down from 0xC000, and those are tried.
    static func find(programFD: Int32, ifindex: Int32, egress: Bool, priority: UInt32?) -> ClassicTCFilter? {
        guard let program = ProgramInfo(fd: programFD) else { return nil }
        let priorities: [UInt32] = priority.map { [$0] } ?? Array((0xC000 - 255)...0xC000).reversed()
        let handles: [UInt32] = priority == nil ? [1, 2] : Array(1...16)
        for candidate in priorities {
            for handle in handles {
                var hook = hook(ifindex: ifindex, egress: egress)
                var opts = bpf_tc_opts()
                opts.sz = libbpfOptionsSize(\bpf_tc_opts.priority)
                opts.handle = handle
                opts.priority = candidate
                guard bpf_tc_query(&hook, &opts) == 0 else { continue }
                if opts.prog_id == program.id {
                    return ClassicTCFilter(ifindex: ifindex, egress: egress, handle: handle, priority: candidate, programFD: programFD)
                }
            }
        }
        return nil
    }

    /// Whether the filter is still on its hook.
    func exists() -> Bool {
        var hook = Self.hook(ifindex: ifindex, egress: egress)
        var opts = bpf_tc_opts()
        opts.sz = libbpfOptionsSize(\bpf_tc_opts.priority)
        opts.handle = handle
        opts.priority = priority
        return bpf_tc_query(&hook, &opts) == 0
    }

    /// Deletes the filter (gone already, with its interface, is fine).
    func detach() {
        var hook = Self.hook(ifindex: ifindex, egress: egress)
        var opts = bpf_tc_opts()
        opts.sz = libbpfOptionsSize(\bpf_tc_opts.priority)
        opts.handle = handle
        opts.priority = priority
        _ = bpf_tc_detach(&hook, &opts)
    }
}

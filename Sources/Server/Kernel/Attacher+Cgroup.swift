import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// `cgroup` targets: a cgroup v2 directory and a hook in it, attached by
/// descriptor (`bpf_link_create`) for loaded and adopted programs alike.
extension Attacher {
    static let cgroup2Magic = 0x6367_7270  // CGROUP2_SUPER_MAGIC

    func attachCgroup(_ program: AttachProgram, path: String, attachType: String, target: AttachTarget) throws(KernelError) -> BPFLink {
        guard let hook = CgroupAttachType.named(attachType) else {
            throw KernelError.invalidArgument(message: "target.attachType: '\(attachType)' is not a cgroup attach type (one of: \(CgroupAttachType.names.joined(separator: ", ")))",
                                data: ["field": "target.attachType", "allowed": .array(CgroupAttachType.names.map(JSONValue.string))])
        }
        let name = program.name, type = program.type
        guard type == hook.programType else {
            throw KernelError.invalidArgument(message:
                                "program '\(name)' is a \(programTypeName(type)) program; cgroup attach type '\(hook.name)' takes \(programTypeName(hook.programType)) programs",
                                data: ["field": "target.attachType", "programType": .string(programTypeName(type))])
        }
        // The kernel holds most cgroup programs to the attach type they were
        // verified for (their section); say so instead of EINVAL.
        let section = program.section
        var expected = program.expectedAttachType
        if type == BPF_PROG_TYPE_CGROUP_SOCK, expected == BPF_CGROUP_INET_INGRESS { expected = BPF_CGROUP_INET_SOCK_CREATE }
        let enforced = type == BPF_PROG_TYPE_CGROUP_SOCK || type == BPF_PROG_TYPE_CGROUP_SOCK_ADDR || type == BPF_PROG_TYPE_CGROUP_SOCKOPT
            || (type == BPF_PROG_TYPE_CGROUP_SKB && section.hasPrefix("cgroup_skb/"))
        if enforced, expected != hook.attachType {
            throw KernelError.invalidArgument(message:
                                "target.attachType: program '\(name)' was loaded for '\(CgroupAttachType.name(of: expected))' (its section '\(section)') and cannot attach as '\(hook.name)'",
                                data: ["field": "target.attachType", "section": .string(section)])
        }
        guard path.hasPrefix("/") else {
            throw .invalidField("target.path: '\(path)' is not an absolute path", field: "target.path")
        }
        let opened = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard opened >= 0 else {
            throw KernelError.invalidArgument(message: "target.path: no cgroup directory \(path) on this node (\(errnoText(currentErrno())))",
                                data: ["field": "target.path", "path": .string(path)])
        }
        let cgroup = OwnedDescriptor(opened)
        guard bpfleet_filesystem_type(path) == Self.cgroup2Magic else {
            throw KernelError.invalidArgument(message: "target.path: \(path) is not a cgroup v2 directory (mount cgroup2, e.g. at /sys/fs/cgroup)",
                                data: ["field": "target.path", "path": .string(path)])
        }
        var opts = bpf_link_create_opts()
        opts.sz = MemoryLayout<bpf_link_create_opts>.size
        let fd = bpf_link_create(program.fd, cgroup.fd, hook.attachType, &opts)
        guard fd >= 0 else { throw failure(-fd, program, target: target) }
        return BPFLink(parts: [("link", .descriptor(fd))])
    }
}

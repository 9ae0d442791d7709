import BpfleetShared
import CLibBPF
import Foundation

/// Network targets: XDP and tc on an interface of the node's own network
/// namespace (the one bpfleetd runs in). Both attach by descriptor
/// (`bpf_link_create`, `bpf_tc_attach`), so a loaded program and one held
/// by its pin (an adopted probe) take the same path.
extension Attacher {
    /// XDP mode names → XDP_FLAGS_* (linux/if_link.h): `auto` lets the
    /// kernel take the driver's hook when it has one, else the generic one.
    static let xdpModes: [String: UInt32] = ["auto": 0, "native": 1 << 2, "drv": 1 << 2, "generic": 1 << 1, "skb": 1 << 1]

    func attachXDP(_ program: AttachProgram, interface: String, mode: String?, target: AttachTarget) throws(KernelError) -> BPFLink {
        try require(program.type, [BPF_PROG_TYPE_XDP], program: program.name, target: target)
        guard let flags = Self.xdpModes[mode ?? "auto"] else {
            throw .invalidField("target.mode: '\(mode ?? "")' is not an XDP mode (native, generic or auto)", field: "target.mode")
        }
        let ifindex = try interfaceIndex(interface)
        var opts = bpf_link_create_opts()
        opts.sz = MemoryLayout<bpf_link_create_opts>.size
        opts.flags = flags
        let fd = bpf_link_create(program.fd, ifindex, BPF_XDP, &opts)
        guard fd >= 0 else {
            let code = -fd
            let message: String? = switch code {
            case EEXIST, EBUSY: "interface \(interface) already has an XDP program attached"
            case EOPNOTSUPP where flags == 1 << 2: "interface \(interface) has no native XDP support in its driver; use mode generic"
            default: nil
            }
            throw failure(code, program, target: target, message: message)
        }
        return BPFLink(parts: [("link", .descriptor(fd))])
    }

    /// A tcx link where the kernel has them (6.6) and no classic priority is
    /// asked for; otherwise a filter on the interface's clsact qdisc.
    func attachTC(_ program: AttachProgram, interface: String, direction: String, priority: UInt32?,
                  target: AttachTarget) throws(KernelError) -> BPFLink {
        try require(program.type, [BPF_PROG_TYPE_SCHED_CLS], program: program.name, target: target)
        guard direction == "ingress" || direction == "egress" else {
            throw .invalidField("target.direction: '\(direction)' is not a tc direction (ingress or egress)", field: "target.direction")
        }
        if let priority, !(1...0xFFFF).contains(priority) {
            throw .invalidField("target.priority: \(priority) is not a tc filter priority (1-65535)", field: "target.priority")
        }
        let egress = direction == "egress"
        let ifindex = try interfaceIndex(interface)
        if features.tcx, priority == nil {
            var opts = bpf_link_create_opts()
            opts.sz = MemoryLayout<bpf_link_create_opts>.size
            let fd = bpf_link_create(program.fd, ifindex, egress ? BPFAttachTypes.tcxEgress : BPFAttachTypes.tcxIngress, &opts)
            guard fd >= 0 else { throw failure(-fd, program, target: target) }
            return BPFLink(parts: [("link", .descriptor(fd))])
        }
        guard let filter = ClassicTCFilter.attach(programFD: program.fd, ifindex: ifindex, egress: egress, priority: priority) else {
            let code = currentErrno()
            throw failure(code, program, target: target,
                          message: code == EEXIST ? "interface \(interface) already has a \(direction) filter at priority \(priority ?? 0)" : nil)
        }
        return BPFLink(parts: [("filter", .classicTC(filter))])
    }

    func interfaceIndex(_ interface: String) throws(KernelError) -> Int32 {
        guard !interface.isEmpty, interface.utf8.count < 16, !interface.contains("/") else {
            throw .invalidField("target.interface: '\(interface)' is not a network interface name", field: "target.interface")
        }
        let index = if_nametoindex(interface)
        guard index > 0 else {
            throw KernelError.invalidArgument(message: "target.interface: no network interface '\(interface)' on this node",
                                data: ["field": "target.interface", "interface": .string(interface)])
        }
        return Int32(index)
    }
}

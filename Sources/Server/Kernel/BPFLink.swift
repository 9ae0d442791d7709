import CLibBPF
import Glibc

/// What one attach made in the kernel, and everything needed to undo it.
/// Most targets make one link; a `perf_event` target makes one per online
/// CPU, and a classic tc filter is no link at all (see ClassicTCFilter).
enum Attachment {
    /// A `struct bpf_link *` from libbpf; owns the link (and, for perf
    /// event links, the perf event descriptor).
    case libbpf(OpaquePointer)
    /// A link descriptor from `bpf_link_create` (XDP with a mode, tcx,
    /// cgroup), for targets whose flags libbpf 1.1's helpers cannot pass,
    /// and every link Attacher makes.
    case descriptor(Int32)
    /// A filter on the clsact qdisc, for kernels without tcx.
    case classicTC(ClassicTCFilter)

    var fd: Int32 {
        switch self {
        case .libbpf(let handle): bpf_link__fd(handle)
        case .descriptor(let fd): fd
        case .classicTC(let filter): filter.programFD
        }
    }

    /// Whether the part is a kernel link (not a tc filter or a bundle).
    var isKernelLink: Bool {
        switch self {
        case .libbpf, .descriptor: true
        case .classicTC: false
        }
    }

    /// The kernel's link id, or 0 for a classic tc filter (not a link).
    var kernelID: UInt32 {
        guard isKernelLink else { return 0 }
        var info = bpf_link_info()
        var length = UInt32(MemoryLayout<bpf_link_info>.size)
        guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { return 0 }
        return info.id
    }
}

/// An attachment of one program to one target: one or more kernel links,
/// or a classic tc filter. Owns them: deinit destroys every link, which
/// detaches it unless a pin still holds it in bpffs, and removes a classic
/// tc filter unless it is pinned.
///
/// Pins: a single attachment pins at the path itself
/// (`PINROOT/PROBE/links/ID`); several pin as a directory of that name
/// holding one pin per part (`links/ID/cpu0`, `links/ID/cpu1`, ...).
final class BPFLink: @unchecked Sendable {
    let parts: [(name: String, attachment: Attachment)]
    /// Where each part not made through libbpf is pinned (libbpf keeps the
    /// pin path of its own links, also of links opened from a pin).
    private var pinPaths: [Int: String] = [:]
    private var pinDirectory: String?

    private let pinsAsDirectory: Bool

    init(handle: OpaquePointer) {
        parts = [("link", .libbpf(handle))]
        pinsAsDirectory = false
    }

    /// `pinAsDirectory` keeps the pin layout of a target that makes one part
    /// per CPU the same on a machine with one CPU.
    init(parts: [(name: String, attachment: Attachment)], pinAsDirectory: Bool = false) {
        precondition(!parts.isEmpty, "an attachment has at least one part")
        self.parts = parts
        self.pinsAsDirectory = pinAsDirectory || parts.count > 1
    }

    /// A classic tc filter an earlier bpfleetd left, found again
    /// (ClassicTCFilter.find) with its program pinned at `path`: owned as
    /// if this process had attached and pinned it, so it stays when this
    /// process exits and goes when it is detached.
    init(adopting filter: ClassicTCFilter, pinnedAt path: String) {
        parts = [("filter", .classicTC(filter))]
        pinsAsDirectory = false
        pinPaths[0] = path
    }

    deinit {
        for (index, part) in parts.enumerated() {
            switch part.attachment {
            case .libbpf(let handle): bpf_link__destroy(handle)
            case .descriptor(let fd): close(fd)
            case .classicTC(let filter): if pinPaths[index] == nil { filter.detach() }
            }
        }
    }

    /// The first part's descriptor (the only one for most targets).
    var fd: Int32 { parts[0].attachment.fd }

    /// The kernel's link id, as `bpftool link show` prints it (the first
    /// part's; 0 for a classic tc filter, which is not a link).
    var kernelID: UInt32 { parts[0].attachment.kernelID }

    /// Every part's kernel link id, in part order.
    var kernelIDs: [UInt32] { parts.filter(\.attachment.isKernelLink).map(\.attachment.kernelID) }

    /// Why the kernel no longer runs this attachment, or nil while it does:
    /// a link whose interface or cgroup is gone stays a link, attached to
    /// nothing; a classic filter goes with its interface or a `tc filter del`.
    func missingReason() -> String? {
        for part in parts {
            switch part.attachment {
            case .classicTC(let filter):
                if !filter.exists() { return "the tc filter is no longer on interface index \(filter.ifindex)" }
            case .libbpf, .descriptor:
                var info = bpf_link_info()
                var length = UInt32(MemoryLayout<bpf_link_info>.size)
                guard bpf_obj_get_info_by_fd(part.attachment.fd, &info, &length) == 0 else {
                    return "the kernel has no link \(part.name) any more"
                }
                // xdp and tcx links both begin with the interface index, 0
                // once the interface is gone.
                let type = LinkType(rawValue: info.type)
                if type == .xdp || type == .tcx, info.xdp.ifindex == 0 {
                    return "its interface is gone"
                }
                if type == .cgroup, info.cgroup.cgroup_id == 0 {
                    return "its cgroup is gone"
                }
            }
        }
        return nil
    }

    /// Pins every part under `path`; on failure nothing is pinned.
    func pin(at path: String) throws(KernelError) {
        func failed() -> KernelError { .failed(operation: "pin link at \(path)", errno: currentErrno()) }
        if !pinsAsDirectory {
            guard pinPart(0, at: path) == 0 else { throw failed() }
            return
        }
        guard mkdir(path, 0o700) == 0 else { throw failed() }
        pinDirectory = path
        for index in parts.indices where parts[index].attachment.isKernelLink || parts.count == 1 {
            guard pinPart(index, at: "\(path)/\(parts[index].name)") == 0 else {
                let error = failed()
                unpin()
                throw error
            }
        }
    }

    /// The kernel's type of the (single) link, nil for a classic tc filter,
    /// several parts, or a link the kernel no longer has.
    var linkType: LinkType? {
        guard parts.count == 1, parts[0].attachment.isKernelLink else { return nil }
        var info = bpf_link_info()
        var length = UInt32(MemoryLayout<bpf_link_info>.size)
        guard bpf_obj_get_info_by_fd(parts[0].attachment.fd, &info, &length) == 0 else { return nil }
        return LinkType(rawValue: info.type)
    }

    /// Whether the kernel can point the link at another program in place
    /// (`update(to:replacing:)`): XDP, cgroup, netns, tcx and netkit links.
    /// Perf event links (tracepoint, kprobe, uprobe), raw tracepoint and
    /// tracing links, several-part attachments and classic tc filters cannot.
    var isUpdatable: Bool {
        guard let linkType else { return false }
        return [.cgroup, .netns, .xdp, .tcx, .netkit].contains(linkType)
    }

    /// Points the link at the program `program` holds (`BPF_LINK_UPDATE`),
    /// when it still runs the one `old` holds (`BPF_F_REPLACE`), or
    /// whatever it runs when `old` is nil.
    func update(to program: Int32, replacing old: Int32?) throws(KernelError) {
        try Self.update(link: fd, to: program, replacing: old)
    }

    static func update(link: Int32, to program: Int32, replacing old: Int32?) throws(KernelError) {
        let rc: Int32
        if let old {
            var options = bpf_link_update_opts()
            options.sz = MemoryLayout<bpf_link_update_opts>.size
            options.flags = UInt32(BPF_F_REPLACE)
            options.old_prog_fd = UInt32(bitPattern: old)
            rc = bpf_link_update(link, program, &options)
        } else {
            rc = bpf_link_update(link, program, nil)
        }
        guard rc == 0 else { throw .failed(operation: "link update", errno: currentErrno()) }
    }

    /// Removes every pin; what is left detaches when this object dies.
    func unpin() {
        for (index, part) in parts.enumerated() {
            if case .libbpf(let handle) = part.attachment {
                _ = bpf_link__unpin(handle)
            } else if let path = pinPaths.removeValue(forKey: index) {
                unlink(path)
            }
        }
        if let pinDirectory { rmdir(pinDirectory) }
        pinDirectory = nil
    }

    private func pinPart(_ index: Int, at path: String) -> Int32 {
        let rc: Int32
        switch parts[index].attachment {
        case .libbpf(let handle):
            return bpf_link__pin(handle, path) == 0 ? 0 : -1
        case .descriptor(let fd):
            rc = bpf_obj_pin(fd, path)
        case .classicTC(let filter):
            // Not a link: the pin holds the program, and marks the filter as
            // meant to outlive this process (docs/state-and-pins.md).
            rc = bpf_obj_pin(filter.programFD, path)
        }
        guard rc == 0 else { return -1 }
        pinPaths[index] = path
        return 0
    }
}

/// The kernel's link types (`enum bpf_link_type`, linux/bpf.h), by name:
/// some (tcx, netkit) are newer than the libbpf 1.1 headers bpfleet builds with.
enum LinkType: UInt32, Sendable {
    case unspecified = 0, rawTracepoint = 1, tracing = 2, cgroup = 3, iterator = 4, netns = 5, xdp = 6, perfEvent = 7
    case kprobeMulti = 8, structOps = 9, netfilter = 10, tcx = 11, uprobeMulti = 12, netkit = 13
}

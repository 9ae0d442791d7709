import BpfleetShared
import CLibBPF
import Foundation

/// A link an earlier bpfleetd pinned, opened again. A pin is one link
/// (`links/ID`) or, for a target that makes a link per CPU, a directory of
/// them (`links/ID/cpu0`, ...): see BPFLink.
enum PinnedLink {
    enum Failure: Error {
        /// Nothing is pinned there.
        case missing
        /// Something is, but not links (a classic tc filter pins its program).
        case notALink(String)
    }

    /// The link pinned at `path` for `target`, attached for the program
    /// `programFD` holds.
    static func open(at path: String, target: AttachTarget, programFD: Int32) -> Result<BPFLink, Failure> {
        var status = stat()
        guard stat(path, &status) == 0 else { return .failure(.missing) }
        if case .tc(let interface, let direction, let priority) = target, (status.st_mode & S_IFMT) != S_IFDIR {
            if let owned = OwnedDescriptor(pinnedAt: path) {
                // A tcx link pins at the same path as a classic filter's
                // program; bpf_obj_get_info_by_fd would read either.
                if isProgram(owned.fd), let info = ProgramInfo(fd: owned.fd) {
                    return classicTCFilter(at: path, programID: info.id, interface: interface, egress: direction == "egress",
                                           priority: priority, programFD: programFD)
                }
            }
        }
        return open(at: path, status: status)
    }

    /// Points the link pinned at `linkPath` at the program pinned at
    /// `programPath` when it runs another (a replace a crash cut short is
    /// undone); nothing when either pin is missing.
    static func pointBack(_ linkPath: String, at programPath: String) {
        guard let link = OwnedDescriptor(pinnedAt: linkPath), let program = OwnedDescriptor(pinnedAt: programPath) else { return }
        var info = bpf_link_info()
        var length = UInt32(MemoryLayout<bpf_link_info>.size)
        if bpf_obj_get_info_by_fd(link.fd, &info, &length) == 0, info.prog_id != ProgramInfo(fd: program.fd)?.id {
            try? BPFLink.update(link: link.fd, to: program.fd, replacing: nil)
        }
    }

    /// Whether `fd` is a program's descriptor (not a link's or a map's).
    private static func isProgram(_ fd: Int32) -> Bool {
        var buffer = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        return length > 0 && String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) == "anon_inode:bpf-prog"
    }

    /// A classic tc filter pins its program at `path` (BPFLink.pin): the
    /// filter is found again on its interface's hook, by the desired
    /// state's interface, direction and priority.
    private static func classicTCFilter(at path: String, programID: UInt32, interface: String, egress: Bool, priority: UInt32?,
                                        programFD: Int32) -> Result<BPFLink, Failure> {
        guard ProgramInfo(fd: programFD)?.id == programID else {
            return .failure(.notALink("\(path) pins another program than the probe's"))
        }
        let ifindex = if_nametoindex(interface)
        guard ifindex > 0 else {
            return .failure(.notALink("the classic tc filter's interface \(interface) is gone"))
        }
        guard let filter = ClassicTCFilter.find(programFD: programFD, ifindex: Int32(ifindex), egress: egress, priority: priority) else {
            return .failure(.notALink("\(interface) has no \(egress ? "egress" : "ingress") tc filter\(priority.map { " at priority \($0)" } ?? "") running the probe's program"))
        }
        return .success(BPFLink(adopting: filter, pinnedAt: path))
    }

    private static func open(at path: String, status: stat) -> Result<BPFLink, Failure> {
        if (status.st_mode & S_IFMT) != S_IFDIR {
            guard let handle = bpf_link__open(path) else {
                return .failure(.notALink("\(path) is pinned, but not as a link (\(errnoName(currentErrno()))); bpfleetd cannot take it over: detach it, or unload the probe"))
            }
            return .success(BPFLink(handle: handle))
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .sorted { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }  // cpu2 before cpu10
        var parts: [(name: String, attachment: Attachment)] = []
        for name in names {
            guard let handle = bpf_link__open("\(path)/\(name)") else {
                let code = currentErrno()
                for part in parts { if case .libbpf(let opened) = part.attachment { bpf_link__destroy(opened) } }
                return .failure(.notALink("\(path)/\(name) is not a pinned link (\(errnoName(code)))"))
            }
            parts.append((name, .libbpf(handle)))
        }
        guard !parts.isEmpty else { return .failure(.missing) }
        return .success(BPFLink(parts: parts, pinAsDirectory: true))
    }
}

import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// `tracepoint` and `raw_tracepoint` targets.
extension Attacher {
    /// Tracepoint names become paths under tracefs: no separators or dots.
    func validateName(_ value: String, field: String) throws(KernelError) {
        guard !value.isEmpty, value.count <= 128,
              value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw .invalidField("\(field): '\(value)' is not a valid tracepoint name", field: field)
        }
    }

    /// `target` is the one asked for (`auto` or the tracepoint itself).
    func attachTracepoint(_ program: AttachProgram, category: String, name: String, target: AttachTarget) throws(KernelError) -> BPFLink {
        try require(program.type, [BPF_PROG_TYPE_TRACEPOINT], program: program.name, target: target)
        try validateName(category, field: "target.category")
        try validateName(name, field: "target.name")
        guard let tracefs = features.tracefs ?? Filesystems.tracefsPath() else {
            throw .unsupported(feature: "tracefs", message: "tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)")
        }
        let resolved = AttachTarget.tracepoint(category: category, name: name)
        let idPath = "\(tracefs)/events/\(category)/\(name)/id"
        guard let text = try? String(contentsOfFile: idPath, encoding: .utf8),
              let id = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw failure(ENOENT, program, target: resolved)
        }
        let perfFD = bpfleet_perf_event_open_tracepoint(id)
        guard perfFD >= 0 else { throw failure(currentErrno(), program, target: resolved) }
        guard let link = Self.perfEventLink(program, perfFD: perfFD) else {
            throw failure(currentErrno(), program, target: resolved)
        }
        return BPFLink(parts: [("link", link)])
    }

    /// `target` is the one asked for, `resolved` the raw tracepoint it names.
    func attachRawTracepoint(_ program: AttachProgram, name: String, target: AttachTarget, resolved: AttachTarget) throws(KernelError) -> BPFLink {
        try require(program.type, [BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE], program: program.name, target: target)
        try validateName(name, field: "target.name")
        let fd = bpf_raw_tracepoint_open(name, program.fd)
        guard fd >= 0 else { throw failure(currentErrno(), program, target: resolved) }
        return BPFLink(parts: [("link", .descriptor(fd))])
    }
}

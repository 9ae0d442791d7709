import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// Attaches a program that bpfleetd holds only by its descriptor: a
/// program of an adopted probe, found pinned at start-up. Its libbpf object
/// was opened (for BTF and names) but never loaded, and libbpf's
/// `bpf_program__attach_*` take loaded programs only, so this goes to the
/// kernel directly:
///
/// - `raw_tracepoint`: `BPF_RAW_TRACEPOINT_OPEN`;
/// - `tracepoint`: `perf_event_open` on the tracepoint's tracefs id, then
///   `BPF_LINK_CREATE` with `BPF_PERF_EVENT` (the link holds the perf event);
/// - `auto`: the tracepoint or raw tracepoint the program's section names.
///
/// Other target types answer -32008 naming `bpfleetd:adopted-attach` and
/// telling the operator to unload and load the probe again (a loaded probe
/// attaches through libbpf, which serves them). The link comes back pinned
/// at `pinPath`, owned by a `BPFLink` opened from that pin.
struct DescriptorAttach {
    let features: KernelFeatures

    struct Program {
        var name: String
        var fd: Int32
        var type: bpf_prog_type
        var section: String
    }

    func attach(_ program: Program, probe: String, to target: AttachTarget, pinPath: String) throws(ResponseError) -> BPFLink {
        if let missing = features.unsupportedTargets[target.type] {
            throw .unsupported(missing.feature, "\(target.type) targets are not available on this node: \(missing.reason)")
        }
        let linkFD: Int32
        switch try resolve(target, program: program, probe: probe) {
        case .tracepoint(let category, let name):
            try require(program, [BPF_PROG_TYPE_TRACEPOINT], target: target)
            try validateName(category, field: "target.category")
            try validateName(name, field: "target.name")
            linkFD = try attachTracepoint(program, category: category, name: name, target: target)
        case .rawTracepoint(let name):
            try require(program, [BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE], target: target)
            try validateName(name, field: "target.name")
            let fd = bpf_raw_tracepoint_open(name, program.fd)
            guard fd >= 0 else {
                let code = currentErrno()
                throw failure(code, code == ENOENT ? "raw tracepoint \(name) does not exist on this kernel" : nil, program: program, target: target)
            }
            linkFD = fd
        default:
            throw .unsupported(
                "bpfleetd:adopted-attach",
                "probe '\(probe)' was adopted from its pins after a restart, and this bpfleetd attaches an adopted probe's programs to tracepoint and raw_tracepoint targets only; to attach to a \(target.type) target, unload the probe and load it again (probe.unload, probe.load)")
        }
        defer { close(linkFD) }
        guard bpf_obj_pin(linkFD, pinPath) == 0 else {
            throw .kernel("pin link at \(pinPath)", errno: currentErrno())
        }
        guard let handle = bpf_link__open(pinPath) else {
            let code = currentErrno()
            unlink(pinPath)
            throw .kernel("open pinned link \(pinPath)", errno: code)
        }
        return BPFLink(handle: handle)
    }

    /// `auto` becomes the target the section names (`tracepoint/CAT/NAME`,
    /// `tp/CAT/NAME`, `raw_tracepoint/NAME`, `raw_tp/NAME`).
    private func resolve(_ target: AttachTarget, program: Program, probe: String) throws(ResponseError) -> AttachTarget {
        guard case .auto = target else { return target }
        let parts = program.section.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first, parts.count) {
        case ("tracepoint", 3), ("tp", 3):
            return .tracepoint(category: parts[1], name: parts[2])
        case ("raw_tracepoint", 2), ("raw_tp", 2):
            return .rawTracepoint(name: parts[1])
        default:
            throw .unsupported(
                "bpfleetd:adopted-attach",
                "probe '\(probe)' was adopted from its pins after a restart; section '\(program.section)' of program '\(program.name)' names no tracepoint or raw tracepoint, the only targets this bpfleetd attaches an adopted probe to; give a target, or unload the probe and load it again")
        }
    }

    private func attachTracepoint(_ program: Program, category: String, name: String, target: AttachTarget) throws(ResponseError) -> Int32 {
        guard let tracefs = features.tracefs ?? Filesystems.tracefsPath() else {
            throw .unsupported("tracefs", "tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)")
        }
        let idPath = "\(tracefs)/events/\(category)/\(name)/id"
        guard let text = try? String(contentsOfFile: idPath, encoding: .utf8),
              let id = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw failure(ENOENT, "tracepoint \(category)/\(name) does not exist on this kernel", program: program, target: target)
        }
        let perfFD = bpfleet_perf_event_open_tracepoint(id)
        guard perfFD >= 0 else {
            throw failure(currentErrno(), nil, program: program, target: target)
        }
        // The link takes its own reference to the perf event.
        defer { close(perfFD) }
        let linkFD = bpf_link_create(program.fd, perfFD, BPF_PERF_EVENT, nil)
        guard linkFD >= 0 else {
            throw failure(currentErrno(), nil, program: program, target: target)
        }
        return linkFD
    }

    private func require(_ program: Program, _ allowed: [bpf_prog_type], target: AttachTarget) throws(ResponseError) {
        guard allowed.contains(program.type) else {
            throw ResponseError(.invalidParams, "program '\(program.name)' is a \(programTypeName(program.type)) program and cannot attach to a \(target.type) target",
                                data: ["field": "target.type", "programType": .string(programTypeName(program.type))])
        }
    }

    /// Tracepoint names become paths under tracefs: no separators or dots.
    private func validateName(_ value: String, field: String) throws(ResponseError) {
        guard !value.isEmpty, value.count <= 128,
              value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw .invalidParams("\(field): '\(value)' is not a valid tracepoint name", field: field)
        }
    }

    private func failure(_ code: Int32, _ message: String?, program: Program, target: AttachTarget) -> ResponseError {
        let data: [String: JSONValue] = [
            "errno": .int(Int64(code)), "errnoName": .string(errnoName(code)),
            "target": (try? JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(target))) ?? .null,
        ]
        return ResponseError(.attachFailed, message ?? "attaching '\(program.name)' to \(target) failed: \(errnoText(code)) (\(errnoName(code)))",
                             data: .object(data))
    }
}

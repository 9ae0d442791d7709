import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// Attaches a program by its descriptor: bpfleetd holds every program by
/// the descriptor of its pin (the object helper loaded it; no libbpf object
/// of it lives in this process), for fresh, adopted and restored probes
/// alike. This goes to the kernel directly, with Attacher's validation and
/// errors:
///
/// - `tracepoint`: `perf_event_open` on the tracepoint's tracefs id, then
///   `BPF_LINK_CREATE` with `BPF_PERF_EVENT` (the link holds the event);
/// - `raw_tracepoint`: `BPF_RAW_TRACEPOINT_OPEN`;
/// - `tp_btf`, `fentry`, `fexit` (and `lsm` through `auto`):
///   `BPF_LINK_CREATE` with the program's attach type and no target (the
///   kernel uses the attach BTF id the program was loaded with);
/// - `xdp`, `tc` (tcx or a classic clsact filter), `cgroup`: as Attacher,
///   which attaches those by descriptor for loaded programs too;
/// - `perf_event`: a sampling event per online CPU, a `BPF_PERF_EVENT`
///   link each;
/// - `kprobe`, `uprobe`: a perf event on the kprobe or uprobe PMU (a uprobe
///   symbol's file offset read from the binary's ELF symbol tables) and a
///   `BPF_PERF_EVENT` link;
/// - `auto`: the target the section names, where it names one whole.
///
/// - `usdt`: the binary's USDT notes read, the argument specs written into
///   the object's `__bpf_usdt_specs` map (`usdtSpecs`), a uprobe perf
///   event and a `BPF_PERF_EVENT` link with the spec id as its BPF cookie
///   per call site (Attacher+USDT).
///
/// The link comes back unpinned, made of the same parts as Attacher's, for
/// the registry to pin and own.
struct DescriptorAttach {
    let features: KernelFeatures
    private var attacher: Attacher { Attacher(features: features) }

    func attach(_ program: AttachProgram, probe: String, to target: AttachTarget, usdtSpecs: MapIO? = nil) throws(ResponseError) -> BPFLink {
        if let missing = features.unsupportedTargets[target.type] {
            throw .unsupported(missing.feature, "\(target.type) targets are not available on this node: \(missing.reason)")
        }
        bpfleet_libbpf_messages_reset()
        let resolved = try resolve(target, program: program, probe: probe)
        switch resolved {
        case .tracepoint(let category, let name):
            try attacher.require(program.type, [BPF_PROG_TYPE_TRACEPOINT], program: program.name, target: target)
            try attacher.validateName(category, field: "target.category")
            try attacher.validateName(name, field: "target.name")
            return try attachTracepoint(program, category: category, name: name, target: target)
        case .rawTracepoint(let name):
            try attacher.require(program.type, [BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE], program: program.name, target: target)
            try attacher.validateName(name, field: "target.name")
            let fd = bpf_raw_tracepoint_open(name, program.fd)
            guard fd >= 0 else { throw attacher.failure(currentErrno(), program, target: resolved) }
            return BPFLink(parts: [("link", .descriptor(fd))])
        case .usdt(let binary, let provider, let name, let pid):
            return try attacher.attachUSDTByDescriptor(program, binary: binary, provider: provider, probe: name, pid: pid,
                                                       specs: usdtSpecs, target: resolved)
        case .auto:
            // An lsm section (resolve leaves only those as auto).
            if let missing = features.unsupportedTargets["lsm"] {
                throw .unsupported(missing.feature, "program '\(program.name)' is a lsm program (section '\(program.section)'): \(missing.reason)")
            }
            return try attacher.attachBound(program, target: target)
        default:
            if let missing = features.unsupportedTargets[resolved.type] {
                throw .unsupported(missing.feature, "program '\(program.name)' is a \(resolved.type) program (section '\(program.section)'): \(missing.reason)")
            }
            return try attacher.attachShared(program, to: resolved)
        }
    }

    /// `auto` becomes the target the section names whole, as libbpf's
    /// auto-attach reads it: `tracepoint/CAT/NAME` (`tp/`),
    /// `raw_tracepoint/NAME` (`raw_tp/`), `tp_btf/NAME`, `fentry/FUNCTION`,
    /// `fexit/FUNCTION`, `kprobe/FUNCTION`, `kretprobe/FUNCTION`; `lsm/HOOK`
    /// stays `auto` (no target type of its own).
    private func resolve(_ target: AttachTarget, program: AttachProgram, probe: String) throws(ResponseError) -> AttachTarget {
        guard case .auto = target else { return target }
        let parts = program.section.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first, parts.count) {
        case ("tracepoint", 3), ("tp", 3):
            return .tracepoint(category: parts[1], name: parts[2])
        case ("raw_tracepoint", 2), ("raw_tp", 2):
            return .rawTracepoint(name: parts[1])
        case ("tp_btf", 2):
            return .tpBtf(name: nil)
        case ("fentry", 2):
            return .fentry(function: nil)
        case ("fexit", 2):
            return .fexit(function: nil)
        case ("kprobe", 2), ("kretprobe", 2):
            return .kprobe(function: parts[1], retprobe: parts[0] == "kretprobe")
        case ("lsm", 2) where program.type == BPF_PROG_TYPE_LSM:
            return .auto
        default:
            throw .unsupported(
                "bpfleetd:auto-attach",
                "section '\(program.section)' of program '\(program.name)' names no whole target for auto (tracepoint, raw_tracepoint, tp_btf, fentry, fexit, kprobe, lsm sections do); give the target")
        }
    }

    private func attachTracepoint(_ program: AttachProgram, category: String, name: String, target: AttachTarget) throws(ResponseError) -> BPFLink {
        guard let tracefs = features.tracefs ?? Filesystems.tracefsPath() else {
            throw .unsupported("tracefs", "tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)")
        }
        let resolved = AttachTarget.tracepoint(category: category, name: name)
        let idPath = "\(tracefs)/events/\(category)/\(name)/id"
        guard let text = try? String(contentsOfFile: idPath, encoding: .utf8),
              let id = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw attacher.failure(ENOENT, program, target: resolved)
        }
        let perfFD = bpfleet_perf_event_open_tracepoint(id)
        guard perfFD >= 0 else { throw attacher.failure(currentErrno(), program, target: resolved) }
        guard let link = Attacher.perfEventLink(program, perfFD: perfFD) else {
            throw attacher.failure(currentErrno(), program, target: resolved)
        }
        return BPFLink(parts: [("link", link)])
    }
}

import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// Attaches a program held by its descriptor to a target: the one attach
/// path, for fresh, adopted and restored probes alike (bpfleetd holds every
/// program by the descriptor of its pin; the object helper loaded it and
/// no libbpf object of it lives in this process). `attach` is the one
/// `switch` over the target type; adding a target type is a case there and
/// the function it calls:
///
/// - `tracepoint`: `perf_event_open` on the tracepoint's tracefs id, then
///   `BPF_LINK_CREATE` with `BPF_PERF_EVENT` (the link holds the event);
/// - `raw_tracepoint`: `BPF_RAW_TRACEPOINT_OPEN`;
/// - `tp_btf`, `fentry`, `fexit` (and `lsm` through `auto`):
///   `BPF_LINK_CREATE` with the program's attach type and no target (the
///   kernel uses the attach BTF id the program was loaded with);
/// - `xdp`, `tcx`, `cgroup`: `BPF_LINK_CREATE` on the interface or cgroup;
///   `tc` without tcx: a classic clsact filter (ClassicTCFilter);
/// - `perf_event`: a sampling event per online CPU, a `BPF_PERF_EVENT`
///   link each;
/// - `kprobe`, `uprobe`: a perf event on the kprobe or uprobe PMU (a uprobe
///   symbol's file offset read from the binary's ELF symbol tables) and a
///   `BPF_PERF_EVENT` link;
/// - `usdt`: the binary's USDT notes read, the argument specs written into
///   the object's `__bpf_usdt_specs` map (`usdtSpecs`), a uprobe perf
///   event and a `BPF_PERF_EVENT` link with the spec id as its BPF cookie
///   per call site (Attacher+USDT);
/// - `auto`: the target the section names, where it names one whole.
///
/// The link comes back unpinned, for the registry to pin and own.
struct Attacher {
    let features: KernelFeatures

    func attach(_ program: AttachProgram, to target: AttachTarget, usdtSpecs: MapIO? = nil) throws(KernelError) -> BPFLink {
        if let missing = features.unsupportedTargets[target.type] {
            throw .unsupported(feature: missing.feature, message: "\(target.type) targets are not available on this node: \(missing.reason)")
        }
        bpfleet_libbpf_messages_reset()
        let resolved = try Self.resolve(target, program: program)
        if case .auto = target, let feature = Self.autoFeature(resolved), let missing = features.unsupportedTargets[feature] {
            throw .unsupported(feature: missing.feature, message: "program '\(program.name)' is a \(feature) program (section '\(program.section)'): \(missing.reason)")
        }
        switch resolved {
        case .tracepoint(let category, let name):
            return try attachTracepoint(program, category: category, name: name, target: target)
        case .rawTracepoint(let name):
            return try attachRawTracepoint(program, name: name, target: target, resolved: resolved)
        case .tpBtf(let tracepoint):
            return try attachBTFTracepoint(program, tracepoint: tracepoint, target: resolved)
        case .fentry(let function), .fexit(let function):
            return try attachTrampoline(program, function: function, target: resolved)
        case .kprobe(let function, let retprobe):
            return try attachKprobe(program, function: function, retprobe: retprobe, target: resolved)
        case .uprobe(let binary, let symbol, let offset, let pid, let retprobe):
            return try attachUprobe(program, binary: binary, symbol: symbol, offset: offset, pid: pid, retprobe: retprobe, target: resolved)
        case .usdt(let binary, let provider, let name, let pid):
            return try attachUSDT(program, binary: binary, provider: provider, probe: name, pid: pid, specs: usdtSpecs, target: resolved)
        case .xdp(let interface, let mode):
            return try attachXDP(program, interface: interface, mode: mode, target: resolved)
        case .tc(let interface, let direction, let priority):
            return try attachTC(program, interface: interface, direction: direction, priority: priority, target: resolved)
        case .cgroup(let path, let attachType):
            return try attachCgroup(program, path: path, attachType: attachType, target: resolved)
        case .perfEvent(let event, let frequency):
            return try attachPerfEvent(program, event: event, frequency: frequency, target: resolved)
        case .auto:
            // An lsm section (resolve leaves only those as auto).
            return try attachBound(program, target: target)
        }
    }

    /// The feature (a key of `KernelFeatures.unsupportedTargets`) the
    /// target `auto` resolved to needs, named in the refusal: the resolved
    /// type, `lsm` for an lsm section; tracepoints need none beyond tracefs,
    /// which their attach checks itself.
    private static func autoFeature(_ resolved: AttachTarget) -> String? {
        switch resolved {
        case .auto: "lsm"
        case .tracepoint, .rawTracepoint: nil
        default: resolved.type
        }
    }

    /// The target `auto` attaches `program` to, as a link shows it
    /// (`resolvedTarget`): what `resolve` makes of the section, with the
    /// name a tp_btf, fentry or fexit section binds at load written in;
    /// nil for an lsm section (no target type of its own) and for a
    /// section `auto` refuses.
    static func autoTarget(of program: AttachProgram) -> AttachTarget? {
        guard let resolved = try? resolve(.auto, program: program) else { return nil }
        let bound = program.section.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init)
        switch resolved {
        case .auto: return nil
        case .tpBtf(nil): return .tpBtf(name: bound)
        case .fentry(nil): return .fentry(function: bound)
        case .fexit(nil): return .fexit(function: bound)
        default: return resolved
        }
    }

    /// `auto` becomes the target the section names whole, as libbpf's
    /// auto-attach reads it: `tracepoint/CAT/NAME` (`tp/`),
    /// `raw_tracepoint/NAME` (`raw_tp/`), `tp_btf/NAME`, `fentry/FUNCTION`,
    /// `fexit/FUNCTION`, `kprobe/FUNCTION`, `kretprobe/FUNCTION`,
    /// `uprobe/BINARY:FUNCTION`, `uprobe/BINARY:OFFSET` (`uretprobe/`, `.s`),
    /// `usdt/BINARY:PROVIDER:NAME`; `lsm/HOOK` stays `auto` (no target
    /// type of its own).
    private static func resolve(_ target: AttachTarget, program: AttachProgram) throws(KernelError) -> AttachTarget {
        guard case .auto = target else { return target }
        if let userTarget = try Self.userSpaceTarget(section: program.section, program: program.name) { return userTarget }
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
        case ("iter", _), ("iter.s", _):
            throw .invalidArgument(
                message: "program '\(program.name)' is an iterator (section '\(program.section)'): it attaches to nothing; run it with iter.read (bpfleet iter read PROBE \(program.name))",
                data: ["field": "program", "section": .string(program.section)])
        default:
            throw .unsupported(
                feature: "bpfleetd:auto-attach",
                message: "section '\(program.section)' of program '\(program.name)' names no whole target for auto (tracepoint, raw_tracepoint, tp_btf, fentry, fexit, kprobe, uprobe, usdt, lsm sections do); give the target")
        }
    }

    /// The uprobe or usdt target a section names, as libbpf reads
    /// `uprobe/BINARY:FUNCTION`, `uprobe/BINARY:OFFSET` and
    /// `usdt/BINARY:PROVIDER:NAME`; nil for other sections, for those that
    /// name no binary, and for `FUNCTION+OFFSET`. A binary that means something only to the
    /// tool's own process (`/proc/self/exe`: here that is bpfleetd; a
    /// relative path: relative to nothing on a remote node) is refused.
    static func userSpaceTarget(section: String, program: String) throws(KernelError) -> AttachTarget? {
        guard let slash = section.firstIndex(of: "/") else { return nil }
        let kind = section[..<slash]
        let rest = section[section.index(after: slash)...]
        let isUprobe = ["uprobe", "uretprobe", "uprobe.s", "uretprobe.s"].contains(kind)
        guard isUprobe || kind == "usdt", let colon = rest.firstIndex(of: ":") else { return nil }
        let binary = String(rest[..<colon])
        let spec = String(rest[rest.index(after: colon)...])
        guard !binary.isEmpty, !spec.isEmpty else { return nil }
        func refuse(_ why: String) -> KernelError {
            let example = isUprobe
                ? "{type: \(kind.hasPrefix("uretprobe") ? "uprobe, retprobe: true" : "uprobe"), binary: /path/to/program, symbol: \(spec.split(separator: "+").first.map(String.init) ?? spec)}"
                : "{type: usdt, binary: /path/to/program, provider: ..., name: ...}"
            return .invalidArgument(
                message: "section '\(section)' of program '\(program)' names \(why); give the target with the binary's absolute path: \(example)",
                data: ["field": "target", "section": .string(section)])
        }
        // A bare name is looked up on the node when it is attached, as a
        // uprobe target's is (`resolvedPath`).
        if binary.hasPrefix("/proc/self/") {
            throw refuse("the binary '\(binary)', which on a node is bpfleetd itself")
        } else if binary.contains("/"), !binary.hasPrefix("/") {
            throw refuse("the relative path '\(binary)', which means nothing to a remote node")
        }
        if isUprobe {
            let retprobe = kind.hasPrefix("uretprobe")
            if let offset = parseOffset(spec) {
                return .uprobe(binary: binary, symbol: nil, offset: offset, pid: nil, retprobe: retprobe)
            }
            // FUNCTION+OFFSET (a place inside a function) is no target bpfleetd takes.
            guard !spec.contains("+") else { return nil }
            return .uprobe(binary: binary, symbol: spec, offset: nil, pid: nil, retprobe: retprobe)
        }
        let names = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard names.count == 2, !names[0].isEmpty, !names[1].isEmpty else { return nil }
        return .usdt(binary: binary, provider: String(names[0]), name: String(names[1]), pid: nil)
    }

    /// `0x1a`, `26`: an offset as libbpf's `strtol(..., 0)` would read it.
    private static func parseOffset(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        guard let first = text.first, first.isASCII, first.isNumber else { return nil }
        return UInt64(text)
    }

    func require(_ type: bpf_prog_type, _ allowed: [bpf_prog_type], program: String, target: AttachTarget) throws(KernelError) {
        guard allowed.contains(type) else {
            throw KernelError.invalidArgument(message: "program '\(program)' is a \(programTypeName(type)) program and cannot attach to a \(target.type) target",
                                data: ["field": "target.type", "programType": .string(programTypeName(type))])
        }
    }

    /// The feature (a key of `KernelFeatures.unsupportedTargets`) a program
    /// attached through `auto` needs, from its type and section.
    static func sectionFeature(type: bpf_prog_type, section: String) -> String? {
        let prefix = section.split(separator: "/", maxSplits: 1).first.map(String.init) ?? section
        switch type {
        case BPF_PROG_TYPE_KPROBE:
            if prefix.hasPrefix("uprobe") || prefix.hasPrefix("uretprobe") { return "uprobe" }
            if prefix.hasPrefix("usdt") { return "usdt" }
            return "kprobe"
        case BPF_PROG_TYPE_TRACEPOINT: return "tracepoint"
        case BPF_PROG_TYPE_LSM: return "lsm"
        case BPF_PROG_TYPE_TRACING:
            if prefix.hasPrefix("fentry") || prefix.hasPrefix("fmod_ret") { return "fentry" }
            if prefix.hasPrefix("fexit") { return "fexit" }
            return nil
        default: return nil
        }
    }

    /// The kernel's refusal of an attach, with what libbpf printed since
    /// the attach began.
    func failure(_ code: Int32, _ program: AttachProgram, target: AttachTarget, message: String? = nil) -> KernelError {
        .attachFailed(program: program.name, section: program.section, target: target, errno: code, libbpf: takeLibbpfMessages(),
                      reason: message)
    }
}

import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// Attaches a loaded program to a target and hands back the owning link.
struct Attacher {
    let features: KernelFeatures

    func attach(_ program: OpaquePointer, named name: String, to target: AttachTarget) throws(ResponseError) -> BPFLink {
        let type = bpf_program__type(program)
        if let missing = features.unsupportedTargets[target.type] {
            throw .unsupported(missing.feature, "\(target.type) targets are not available on this node: \(missing.reason)")
        }
        bpfleet_libbpf_messages_reset()
        let handle: OpaquePointer?
        switch target {
        case .tracepoint(let category, let tracepoint):
            try require(type, [BPF_PROG_TYPE_TRACEPOINT], program: name, target: target)
            try validateName(category, field: "target.category")
            try validateName(tracepoint, field: "target.name")
            handle = bpf_program__attach_tracepoint(program, category, tracepoint)
        case .rawTracepoint(let tracepoint):
            try require(type, [BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE], program: name, target: target)
            try validateName(tracepoint, field: "target.name")
            handle = bpf_program__attach_raw_tracepoint(program, tracepoint)
        case .auto:
            // The kind of hook the section names decides which feature it needs.
            let section = String(cString: bpf_program__section_name(program))
            if let kind = Self.sectionFeature(type: type, section: section), let missing = features.unsupportedTargets[kind] {
                throw .unsupported(missing.feature, "program '\(name)' is a \(kind) program (section '\(section)'): \(missing.reason)")
            }
            handle = bpf_program__attach(program)
        case .usdt(let binary, let provider, let probeName, let pid):
            return try attachUSDT(program, named: name, binary: binary, provider: provider, probe: probeName, pid: pid, target: target)
        case .tpBtf, .fentry, .fexit, .kprobe, .uprobe, .xdp, .tc, .cgroup, .perfEvent:
            return try attachShared(AttachProgram(loaded: program, named: name), to: target)
        }
        guard let handle else {
            let code = currentErrno()
            throw failure(code, program: name, section: String(cString: bpf_program__section_name(program)), target: target)
        }
        return BPFLink(handle: handle)
    }

    /// The targets whose validation and errors are the same whether the
    /// program was loaded by this process or is held by a pinned descriptor
    /// (DescriptorAttach); each goes through libbpf when `program.loaded`,
    /// and to the kernel directly otherwise.
    func attachShared(_ program: AttachProgram, to target: AttachTarget) throws(ResponseError) -> BPFLink {
        bpfleet_libbpf_messages_reset()
        switch target {
        case .tpBtf(let tracepoint):
            return try attachBTFTracepoint(program, tracepoint: tracepoint, target: target)
        case .fentry(let function), .fexit(let function):
            return try attachTrampoline(program, function: function, target: target)
        case .kprobe(let function, let retprobe):
            return try attachKprobe(program, function: function, retprobe: retprobe, target: target)
        case .uprobe(let binary, let symbol, let offset, let pid, let retprobe):
            return try attachUprobe(program, binary: binary, symbol: symbol, offset: offset, pid: pid, retprobe: retprobe, target: target)
        case .xdp(let interface, let mode):
            return try attachXDP(program, interface: interface, mode: mode, target: target)
        case .tc(let interface, let direction, let priority):
            return try attachTC(program, interface: interface, direction: direction, priority: priority, target: target)
        case .cgroup(let path, let attachType):
            return try attachCgroup(program, path: path, attachType: attachType, target: target)
        case .perfEvent(let event, let frequency):
            return try attachPerfEvent(program, event: event, frequency: frequency, target: target)
        case .tracepoint, .rawTracepoint, .auto, .usdt:
            preconditionFailure("\(target.type) targets are attached by their caller")
        }
    }

    func require(_ type: bpf_prog_type, _ allowed: [bpf_prog_type], program: String, target: AttachTarget) throws(ResponseError) {
        guard allowed.contains(type) else {
            throw ResponseError(.invalidParams, "program '\(program)' is a \(programTypeName(type)) program and cannot attach to a \(target.type) target",
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

    /// Tracepoint names become paths under tracefs: no separators or dots.
    func validateName(_ value: String, field: String) throws(ResponseError) {
        guard !value.isEmpty, value.count <= 128,
              value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw .invalidParams("\(field): '\(value)' is not a valid tracepoint name", field: field)
        }
    }

    func failure(_ code: Int32, _ program: AttachProgram, target: AttachTarget, message: String? = nil) -> ResponseError {
        failure(code, program: program.name, section: program.section, target: target, message: message)
    }

    func failure(_ code: Int32, program: String, section: String, target: AttachTarget, message custom: String? = nil) -> ResponseError {
        let messages = takeLibbpfMessages()
        var data: [String: JSONValue] = [
            "errno": .int(Int64(code)), "errnoName": .string(errnoName(code)),
            "target": (try? JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(target))) ?? .null,
        ]
        if !messages.isEmpty { data["libbpf"] = .string(messages) }
        let message: String
        switch (target, code) {
        case _ where custom != nil:
            message = custom ?? ""
        case (.tracepoint(let category, let name), ENOENT):
            message = "tracepoint \(category)/\(name) does not exist on this kernel"
        case (.rawTracepoint(let name), ENOENT):
            message = "raw tracepoint \(name) does not exist on this kernel"
        case (.auto, EOPNOTSUPP), (.auto, ESRCH):
            message = "section '\(section)' of program '\(program)' does not name a target; give one"
        default:
            message = "attaching '\(program)' to \(target) failed: \(errnoText(code)) (\(errnoName(code)))"
        }
        return ResponseError(.attachFailed, message, data: .object(data))
    }
}

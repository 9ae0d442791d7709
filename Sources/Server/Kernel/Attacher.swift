import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// Validation, errors and the kernel calls of attaching a program held by
/// its descriptor; DescriptorAttach chooses among them by target.
struct Attacher {
    let features: KernelFeatures

    /// The targets DescriptorAttach hands on whole.
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

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
            if type == BPF_PROG_TYPE_KPROBE, let missing = features.unsupportedTargets["kprobe"] {
                throw .unsupported(missing.feature, "program '\(name)' is a kprobe program: \(missing.reason)")
            }
            if type == BPF_PROG_TYPE_TRACEPOINT, let missing = features.unsupportedTargets["tracepoint"] {
                throw .unsupported(missing.feature, "program '\(name)' is a tracepoint program: \(missing.reason)")
            }
            handle = bpf_program__attach(program)
        default:
            throw .unsupported("bpfleetd:\(target.type)", "\(target.type) targets are not served by this bpfleetd version yet")
        }
        guard let handle else {
            let code = currentErrno()
            throw failure(code, program: name, section: String(cString: bpf_program__section_name(program)), target: target)
        }
        return BPFLink(handle: handle)
    }

    private func require(_ type: bpf_prog_type, _ allowed: [bpf_prog_type], program: String, target: AttachTarget) throws(ResponseError) {
        guard allowed.contains(type) else {
            throw ResponseError(.invalidParams, "program '\(program)' is a \(programTypeName(type)) program and cannot attach to a \(target.type) target",
                                data: ["field": "target.type", "programType": .string(programTypeName(type))])
        }
    }

    /// Tracepoint names become paths under tracefs: no separators or dots.
    private func validateName(_ value: String, field: String) throws(ResponseError) {
        guard !value.isEmpty, value.count <= 128,
              value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw .invalidParams("\(field): '\(value)' is not a valid tracepoint name", field: field)
        }
    }

    private func failure(_ code: Int32, program: String, section: String, target: AttachTarget) -> ResponseError {
        let messages = takeLibbpfMessages()
        var data: [String: JSONValue] = [
            "errno": .int(Int64(code)), "errnoName": .string(errnoName(code)),
            "target": (try? JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(target))) ?? .null,
        ]
        if !messages.isEmpty { data["libbpf"] = .string(messages) }
        let message: String
        switch (target, code) {
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

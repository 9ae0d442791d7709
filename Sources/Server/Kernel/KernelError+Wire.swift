import BpfleetShared
import Foundation

extension ResponseError {
    /// The JSON-RPC error of a kernel layer failure: the one mapping from
    /// KernelError to the wire (docs/protocol.md lists the codes).
    init(_ error: KernelError) {
        switch error {
        case .verifierRejected(let program, let log, let code, _):
            // The reason is at the end, before the closing statistics.
            let lines = log.split(separator: "\n", omittingEmptySubsequences: true)
                .filter { !$0.hasPrefix("processed ") && !$0.hasPrefix("verification time") }
            let short = lines.suffix(2).joined(separator: "; ")
            self.init(.verifierRejected, "the verifier rejected program '\(program)': \(short)",
                      data: ["program": .string(program), "log": .string(log), "errno": .int(Int64(code)),
                             "errnoName": .string(errnoName(code))])
        case .loadFailed(let code, let messages):
            let data: JSONValue = ["errno": .int(Int64(code)), "errnoName": .string(errnoName(code)), "operation": "load",
                                   "libbpf": .string(messages)]
            if code == EPERM || code == EACCES {
                self.init(.kernelError, "the kernel refused the load: \(errnoText(code)) (\(LeastPrivilege.loadingNeeds))", data: data)
            } else {
                self.init(.kernelError,
                          "loading the object failed: \(errnoText(code)) (\(errnoName(code)))\(messages.split(separator: "\n").last.map { ": \($0)" } ?? "")",
                          data: data)
            }
        case .programRefused(let program, let section, let code, let messages):
            self.init(.kernelError,
                      "the kernel refused program '\(program)' (section '\(section)') before verifying it: \(errnoText(code)) (\(errnoName(code)))\(code == EPERM ? ": this kernel does not allow this program type or attach point" : "")",
                      data: ["program": .string(program), "section": .string(section), "errno": .int(Int64(code)),
                             "errnoName": .string(errnoName(code)), "operation": "load", "libbpf": .string(messages)])
        case .mapCreateFailed(let map, let code, let messages):
            let why = switch code {
            case E2BIG, ENOMEM: ": it is too large for the kernel (set a smaller size: probe.load's maps)"
            case EPERM: ": bpfleetd lacks the privilege (CAP_BPF, or root) or the memlock limit is too low"
            case EINVAL: ": the kernel refused its type, sizes or flags"
            default: ""
            }
            self.init(.kernelError, "the kernel could not create map '\(map)': \(errnoText(code)) (\(errnoName(code)))\(why)",
                      data: ["map": .string(map), "errno": .int(Int64(code)), "errnoName": .string(errnoName(code)),
                             "operation": "create map", "libbpf": .string(messages)])
        case .missingAttachTarget(let program, let section, let target, let messages):
            self.init(.unsupported,
                      "program '\(program)' (section '\(section)') attaches to '\(target)', which this kernel does not have (not in its BTF)",
                      data: ["feature": .string(target), "program": .string(program), "section": .string(section), "libbpf": .string(messages)])
        case .unsupported(let feature, let message):
            self = .unsupported(feature, message)
        case .failed(let operation, let code):
            self.init(.kernelError, "\(operation) failed: \(errnoText(code)) (\(errnoName(code)))",
                      data: ["errno": .int(Int64(code)), "errnoName": .string(errnoName(code)), "operation": .string(operation)])
        case .invalidObject(let message, let libbpf):
            var data: [String: JSONValue] = [:]
            if !libbpf.isEmpty { data["libbpf"] = .string(libbpf) }
            let detail = libbpf.split(separator: "\n").last.map { ": \($0)" } ?? ""
            self.init(.invalidObject, message + detail, data: .object(data))
        case .attachFailed(let program, let section, let target, let code, let libbpf, let reason):
            var data: [String: JSONValue] = [
                "errno": .int(Int64(code)), "errnoName": .string(errnoName(code)),
                "target": (try? JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(target))) ?? .null,
            ]
            if !libbpf.isEmpty { data["libbpf"] = .string(libbpf) }
            let message: String
            switch (target, code) {
            case _ where reason != nil:
                message = reason ?? ""
            case (.tracepoint(let category, let name), ENOENT):
                message = "tracepoint \(category)/\(name) does not exist on this kernel"
            case (.rawTracepoint(let name), ENOENT):
                message = "raw tracepoint \(name) does not exist on this kernel"
            case (.auto, EOPNOTSUPP), (.auto, ESRCH):
                message = "section '\(section)' of program '\(program)' does not name a target; give one"
            default:
                message = "attaching '\(program)' to \(target) failed: \(errnoText(code)) (\(errnoName(code)))"
            }
            self.init(.attachFailed, message, data: .object(data))
        case .invalidArgument(let message, let data):
            self.init(.invalidParams, message, data: data.map(JSONValue.object))
        case .limitExceeded(let limit, let value, let message):
            self = .limitExceeded(limit, value, message)
        case .entryExists(let message):
            self = .conflict(message, ["errnoName": "EEXIST"])
        case .entryMissing(let message):
            self.init(.notFound, message, data: ["errnoName": "ENOENT"])
        }
    }

    /// -32010: a kernel call failed (one outside Kernel/: a directory, a rename).
    static func kernel(_ operation: String, errno code: Int32) -> ResponseError {
        ResponseError(KernelError.failed(operation: operation, errno: code))
    }
}

/// Runs a call into the kernel layer from a JSON-RPC handler or the
/// registry, its failure said as the wire says it.
@inline(__always)
func kernelCall<T>(_ body: () throws(KernelError) -> T) throws(ResponseError) -> T {
    do {
        return try body()
    } catch {
        throw ResponseError(error)
    }
}

import BpfleetShared
import Foundation

/// How a failed node is described to a person: one line, and on request the
/// verifier's full log.
public enum FailureText {
    /// "probe.load: verifier rejected (-32006): <message>: <last log line>",
    /// "cannot connect: Connection refused (is bpfleetd running?)": what
    /// follows the node on a `bpfleet: <node>: ` line.
    public static func line(_ error: any Error) -> String {
        switch error {
        case let failure as MethodFailure:
            if let access = access(failure.error, method: failure.method) { return access }
            return "\(failure.method): \(line(failure.error))"
        case let error as ResponseError:
            if let access = access(error, method: nil) { return access }
            var text = "\(error.code.name) (\(error.code.rawValue)): \(error.message)"
            if let reason = verifierLog(error).flatMap(lastReason), !error.message.contains(reason) {
                text += ": \(reason)"
            }
            return text
        case let error as ClientError:
            return error.reason
        case is CancellationError:
            return "cancelled"
        default:
            return "\(error)"
        }
    }

    /// Who may do what, said without the code and the method in front:
    /// "permission denied: probe.load needs operator" (-32002, from its
    /// `data`), "unauthenticated: ..." (-32001, the node's own words).
    static func access(_ error: ResponseError, method: String?) -> String? {
        switch error.code {
        case .permissionDenied:
            let data = error.data
            guard let needs = data?["needs"]?.stringValue,
                  let called = data?["method"]?.stringValue ?? method else { return nil }
            return "permission denied: \(called) needs \(needs)"
        case .unauthenticated:
            var text = error.message.hasPrefix("unauthenticated") ? error.message : "unauthenticated: \(error.message)"
            if let identity = error.data?["identity"]?.stringValue, !text.contains(identity) {
                text += " (identity: \(identity))"
            }
            return text
        default:
            return nil
        }
    }

    /// The last line of a verifier log that says something: its closing
    /// statistics ("processed 12 insns (limit 1000000) ...", "verification
    /// time ...") come after the reason and are skipped.
    static func lastReason(_ log: String) -> String? {
        log.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .last { !$0.isEmpty && !$0.hasPrefix("processed ") && !$0.hasPrefix("verification time") }
    }

    /// The verifier's log from a -32006 error's `data.log`, if it has one.
    public static func verifierLog(_ error: any Error) -> String? {
        let response: ResponseError
        switch error {
        case let failure as MethodFailure: response = failure.error
        case let error as ResponseError: response = error
        default: return nil
        }
        guard response.code == .verifierRejected, let log = response.data?["log"]?.stringValue, !log.isEmpty else {
            return nil
        }
        return log
    }
}

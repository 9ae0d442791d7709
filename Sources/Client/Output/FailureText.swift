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
            return "\(failure.method): \(line(failure.error))"
        case let error as ResponseError:
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

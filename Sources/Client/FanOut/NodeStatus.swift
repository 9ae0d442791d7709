/// How one node did in a fan-out: it succeeded, it failed (it answered
/// with an error, or went wrong once connected), or it was unreachable (no
/// connection could be made, or TLS refused one: `ClientError.failedToConnect`).
public enum NodeStatus: String, Sendable, Hashable {
    case ok, failed, unreachable

    /// The status of a node that ended with `error`.
    public init(failure error: any Error) {
        self = (error as? ClientError)?.failedToConnect == true ? .unreachable : .failed
    }
}

extension NodeOutcome {
    public var status: NodeStatus {
        switch result {
        case .success: .ok
        case .failure(let error): NodeStatus(failure: error)
        }
    }
}

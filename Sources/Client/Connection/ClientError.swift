import BpfleetShared

/// A failure on the client's side of a call: the node could not be reached,
/// did not answer in time, went away, or answered something this client
/// cannot read. Errors the server reports are `ResponseError` instead.
///
/// Every message is one line that names the node and says what to check.
public enum ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    case cannotConnect(NodeAddress, reason: String, hint: String?)
    /// No connection within the connect timeout (TCP, or the TLS handshake).
    case connectTimedOut(NodeAddress, after: Duration)
    /// Connected, but no answer within the call timeout.
    case timedOut(NodeAddress, after: Duration)
    case connectionClosed(NodeAddress, reason: String?)
    case responseTooLarge(NodeAddress, bytes: Int, limit: Int)
    case malformedMessage(NodeAddress, detail: String)
    case unexpectedResult(NodeAddress, method: String, detail: String)
    case unsupported(NodeAddress, detail: String)
    /// TLS failed: the node refused our certificate, we refused the node's,
    /// or the handshake itself failed.
    case tls(NodeAddress, TLSFailure)

    public var address: NodeAddress {
        switch self {
        case .cannotConnect(let address, _, _), .connectTimedOut(let address, _), .timedOut(let address, _),
             .connectionClosed(let address, _),
             .responseTooLarge(let address, _, _), .malformedMessage(let address, _),
             .unexpectedResult(let address, _, _), .unsupported(let address, _), .tls(let address, _):
            address
        }
    }

    /// Whether the node was never reached: no connection could be made
    /// (refused, no socket, connect timeout), or TLS refused one side. A
    /// fan-out counts such a node unreachable rather than failed.
    public var failedToConnect: Bool {
        switch self {
        case .cannotConnect, .connectTimedOut, .tls, .unsupported: true
        case .timedOut, .connectionClosed, .responseTooLarge, .malformedMessage, .unexpectedResult: false
        }
    }

    /// A stable word for scripts (the `kind` of a client failure in `-o json`).
    public var kind: String {
        switch self {
        case .cannotConnect: "unreachable"
        case .connectTimedOut, .timedOut: "timeout"
        case .connectionClosed: "disconnected"
        case .responseTooLarge, .malformedMessage, .unexpectedResult: "protocol"
        case .unsupported: "unsupported"
        case .tls: "tls"
        }
    }

    public var description: String {
        switch self {
        case .cannotConnect(let address, let reason, let hint):
            "cannot connect to \(address): \(reason)\(hint.map { " (\($0))" } ?? "")"
        case .connectTimedOut(let address, let after):
            "timed out after \(Self.format(after)) connecting to \(address)"
        case .timedOut(let address, let after):
            "timed out after \(Self.format(after)) waiting for \(address)"
        case .connectionClosed(let address, let reason):
            "connection to \(address) closed\(reason.map { ": \($0)" } ?? "")"
        case .responseTooLarge(let address, let bytes, let limit):
            "message of \(bytes) bytes from \(address) is over this client's limit of \(limit) bytes"
        case .malformedMessage(let address, let detail):
            "malformed message from \(address): \(detail)"
        case .unexpectedResult(let address, let method, let detail):
            "\(method): unexpected result from \(address): \(detail)"
        case .unsupported(let address, let detail):
            "cannot connect to \(address): \(detail)"
        case .tls(_, let failure):
            failure.description
        }
    }

    /// The message without the node, for a line that already starts with it
    /// (`bpfleet: unix:/run/x.sock: cannot connect: ...`).
    public var reason: String {
        switch self {
        case .cannotConnect(_, let reason, let hint):
            "cannot connect: \(reason)\(hint.map { " (\($0))" } ?? "")"
        case .connectTimedOut(_, let after):
            "timed out after \(Self.format(after)) connecting"
        case .timedOut(_, let after):
            "timed out after \(Self.format(after)) waiting for the answer"
        case .connectionClosed(_, let reason):
            "connection closed\(reason.map { ": \($0)" } ?? "")"
        case .responseTooLarge(_, let bytes, let limit):
            "message of \(bytes) bytes is over this client's limit of \(limit) bytes"
        case .malformedMessage(_, let detail):
            "malformed message: \(detail)"
        case .unexpectedResult(_, let method, let detail):
            "\(method): unexpected result: \(detail)"
        case .unsupported(_, let detail):
            "cannot connect: \(detail)"
        case .tls(_, let failure):
            // Names the node itself ("certificate not trusted by node web-1"),
            // and reads the same on a line and in JSON.
            failure.description
        }
    }

    /// "5s", "1.5s", "250ms": how an operator wrote the timeout.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        var text = String(Double(milliseconds) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text + "s"
    }
}

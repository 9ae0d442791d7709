/// JSON-RPC error codes: the specification's and bpfleet's own (docs/protocol.md).
public struct ErrorCode: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let parseError = ErrorCode(rawValue: -32700)
    public static let invalidRequest = ErrorCode(rawValue: -32600)
    public static let methodNotFound = ErrorCode(rawValue: -32601)
    public static let invalidParams = ErrorCode(rawValue: -32602)
    public static let internalError = ErrorCode(rawValue: -32603)

    public static let unauthenticated = ErrorCode(rawValue: -32001)
    public static let permissionDenied = ErrorCode(rawValue: -32002)
    public static let notFound = ErrorCode(rawValue: -32003)
    public static let conflict = ErrorCode(rawValue: -32004)
    public static let invalidObject = ErrorCode(rawValue: -32005)
    public static let verifierRejected = ErrorCode(rawValue: -32006)
    public static let attachFailed = ErrorCode(rawValue: -32007)
    public static let unsupported = ErrorCode(rawValue: -32008)
    public static let limitExceeded = ErrorCode(rawValue: -32009)
    public static let kernelError = ErrorCode(rawValue: -32010)

    /// The short name operators see in tables and messages.
    public var name: String {
        switch self {
        case .parseError: "parse error"
        case .invalidRequest: "invalid request"
        case .methodNotFound: "method not found"
        case .invalidParams: "invalid params"
        case .internalError: "internal error"
        case .unauthenticated: "unauthenticated"
        case .permissionDenied: "permission denied"
        case .notFound: "not found"
        case .conflict: "conflict"
        case .invalidObject: "invalid object"
        case .verifierRejected: "verifier rejected"
        case .attachFailed: "attach failed"
        case .unsupported: "unsupported"
        case .limitExceeded: "limit exceeded"
        case .kernelError: "kernel error"
        default: "error \(rawValue)"
        }
    }

    public var description: String { "\(rawValue) (\(name))" }

    public init(from decoder: Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

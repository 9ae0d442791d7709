/// A JSON-RPC request id: a string, or a number kept as the exact JSON
/// text it was sent as (`1.5`, `1.0`, `18446744073709551615`, `-0`,
/// `1e400`), so the reply echoes it byte for byte.
public enum RequestID: Sendable, Hashable, CustomStringConvertible {
    /// A valid JSON number's text, as `JSONReader` read it.
    case number(String)
    case string(String)

    public var description: String {
        switch self {
        case .number(let text): text
        case .string(let value): value
        }
    }
}

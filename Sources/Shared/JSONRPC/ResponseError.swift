/// A JSON-RPC error object; thrown by handlers, returned to clients.
public struct ResponseError: Error, Codable, Hashable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var data: JSONValue?

    public init(_ code: ErrorCode, _ message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { message }
}

extension ResponseError {
    public static func invalidParams(_ message: String, field: String? = nil) -> ResponseError {
        ResponseError(.invalidParams, message, data: field.map { ["field": .string($0)] })
    }

    public static func notFound(_ what: String, _ name: String) -> ResponseError {
        ResponseError(.notFound, "\(what) '\(name)' not found", data: ["kind": .string(what), "name": .string(name)])
    }

    public static func conflict(_ message: String, _ detail: JSONValue) -> ResponseError {
        ResponseError(.conflict, message, data: detail)
    }

    public static func unsupported(_ feature: String, _ message: String) -> ResponseError {
        ResponseError(.unsupported, message, data: ["feature": .string(feature)])
    }

    public static func limitExceeded(_ limit: String, _ value: Int, _ message: String) -> ResponseError {
        ResponseError(.limitExceeded, message, data: ["limit": .string(limit), "value": .int(Int64(value))])
    }

    /// The text of a DecodingError as an operator reads it: the JSON path to
    /// the offending field and what was wrong there.
    public static func describing(_ error: DecodingError, root: String) -> (path: String, message: String) {
        func path(_ codingPath: [CodingKey]) -> String {
            codingPath.reduce(root) { partial, key in
                // Array positions carry an intValue and a made-up string
                // ("Index 3"); a dictionary key "3" carries both as "3".
                if let index = key.intValue, key.stringValue != String(index) { return "\(partial)[\(index)]" }
                return partial.isEmpty ? key.stringValue : "\(partial).\(key.stringValue)"
            }
        }
        switch error {
        case .typeMismatch(let type, let context):
            let where_ = path(context.codingPath)
            return (where_, "\(where_): expected \(jsonTypeName(type))")
        case .valueNotFound(let type, let context):
            let where_ = path(context.codingPath)
            return (where_, "\(where_): expected \(jsonTypeName(type)), got null")
        case .keyNotFound(let key, let context):
            let where_ = path(context.codingPath + [key])
            return (where_, "\(where_): missing")
        case .dataCorrupted(let context):
            let where_ = path(context.codingPath)
            return (where_, "\(where_): \(context.debugDescription)")
        @unknown default:
            return (root, "\(root): invalid")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        if type is String.Type { return "string" }
        if type is Bool.Type { return "boolean" }
        if type is any FixedWidthInteger.Type { return "integer" }
        if type is any BinaryFloatingPoint.Type { return "number" }
        if String(describing: type).hasPrefix("Array") { return "array" }
        return "object"
    }
}

import Foundation

/// What the `id` member of an incoming message held.
public enum IncomingID: Sendable, Hashable {
    case absent        // a notification: never answered
    case null
    case id(RequestID)
    case invalid       // present but neither string, number nor null

    /// The id to put on the reply.
    public var replyID: RequestID? {
        if case .id(let id) = self { return id }
        return nil
    }
}

/// The outer fields of one JSON-RPC request object, read from the tree
/// `JSONReader` built, leniently so that a malformed request still yields
/// its id and a precise "invalid request".
public struct RequestEnvelope: Sendable {
    public var id: IncomingID
    public var method: String?
    /// Why this is not a valid request object, if it is not.
    public var problem: String?
    /// The `params` member as sent, if there is one.
    public var params: JSONValue?
    /// The first value inside `params` no `JSONValue` holds faithfully
    /// (answered as invalid params naming it, once the caller's role allows
    /// the method). A defect elsewhere is the request's `problem`.
    public var paramsDefect: JSONReader.Defect?

    public var hasParams: Bool { params != nil }
    public var paramsAreObject: Bool {
        if case .object? = params { return true }
        return false
    }

    public init(_ member: JSONReader.Member) {
        params = nil
        method = nil
        paramsDefect = nil
        guard case .object(let fields) = member.value else {
            id = .absent
            problem = "a request must be a JSON object"
            return
        }
        id = Self.id(fields["id"], text: member.idText)
        method = fields["method"]?.stringValue
        params = fields["params"]
        var outsideParams: JSONReader.Defect?
        if let defect = member.defect {
            if defect.path.first == .key("params") { paramsDefect = defect } else { outsideParams = defect }
        }
        if fields["jsonrpc"]?.stringValue != "2.0" {
            problem = "\"jsonrpc\" must be \"2.0\""
        } else if id == .invalid {
            problem = "\"id\" must be a string, a number or null"
        } else if let outsideParams {
            problem = outsideParams.description
        } else if method == nil {
            problem = "\"method\" must be a string"
        } else if case .array? = params {
            problem = nil  // by-position params: valid JSON-RPC, answered as invalid params
        } else if hasParams, !paramsAreObject {
            problem = "\"params\" must be an object or an array"
        } else {
            problem = nil
        }
        // An id spoiled by a lone surrogate is not echoed altered.
        if outsideParams?.path.first == .key("id") { id = .invalid }
    }

    /// The `id` member: a number keeps the text it was sent as.
    private static func id(_ value: JSONValue?, text: String?) -> IncomingID {
        switch value {
        case nil: .absent
        case .null?: text.map { .id(.number($0)) } ?? .null  // null stands in for an out-of-range number
        case .string(let string)?: .id(.string(string))
        case .int(let number)?: .id(.number(text ?? String(number)))
        case .uint(let number)?: .id(.number(text ?? String(number)))
        case .double(let number)?: .id(.number(text ?? "\(number)"))
        case .bool?, .array?, .object?: .invalid
        }
    }
}

/// Decodes only the `params` member as the method's own type.
public struct ParamsBox<Params: Decodable>: Decodable {
    public var params: Params
}

extension JSONEncoder {
    /// The encoder both sides use for the wire: compact, no escaped
    /// slashes, and keys in one order (sorted), so that the same answer
    /// is the same bytes every time.
    public static func wire() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(WireDate.string(date))
        }
        return encoder
    }
}

extension JSONDecoder {
    /// The decoder both sides use for the wire: ISO 8601 dates.
    public static func wire() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

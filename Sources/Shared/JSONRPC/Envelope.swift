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

/// The outer fields of one JSON-RPC request object, decoded leniently so that
/// a malformed request still yields its id and a precise "invalid request".
public struct RequestEnvelope: Decodable, Sendable {
    public var id: IncomingID
    public var method: String?
    /// Why this is not a valid request object, if it is not.
    public var problem: String?
    public var paramsAreObject: Bool
    public var hasParams: Bool

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let container: KeyedDecodingContainer<Key>
        do {
            container = try decoder.container(keyedBy: Key.self)
        } catch {
            self.id = .absent
            self.method = nil
            self.problem = "a request must be a JSON object"
            self.paramsAreObject = false
            self.hasParams = false
            return
        }
        let idKey = Key(stringValue: "id")
        if !container.contains(idKey) {
            id = .absent
        } else if (try? container.decodeNil(forKey: idKey)) == true {
            id = .null
        } else if let number = try? container.decode(Int64.self, forKey: idKey) {
            id = .id(.number(number))
        } else if let string = try? container.decode(String.self, forKey: idKey) {
            id = .id(.string(string))
        } else {
            id = .invalid
        }
        method = try? container.decode(String.self, forKey: Key(stringValue: "method"))
        let version = try? container.decode(String.self, forKey: Key(stringValue: "jsonrpc"))
        let paramsKey = Key(stringValue: "params")
        hasParams = container.contains(paramsKey)
        let paramsValue = hasParams ? try? container.decode(JSONValue.self, forKey: paramsKey) : nil
        switch paramsValue {
        case .object: paramsAreObject = true
        default: paramsAreObject = false
        }
        if version != "2.0" {
            problem = "\"jsonrpc\" must be \"2.0\""
        } else if id == .invalid {
            problem = "\"id\" must be a string, a number or null"
        } else if method == nil {
            problem = "\"method\" must be a string"
        } else if hasParams, case .array = paramsValue {
            problem = nil  // by-position params: valid JSON-RPC, answered as invalid params
        } else if hasParams, !paramsAreObject {
            problem = "\"params\" must be an object or an array"
        } else {
            problem = nil
        }
    }
}

/// Decodes only the `params` member as the method's own type.
public struct ParamsBox<Params: Decodable>: Decodable {
    public var params: Params
}

extension JSONEncoder {
    /// The encoder both sides use for the wire: compact, no escaped slashes.
    public static func wire() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
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

import Foundation

/// A type whose wire form is not what its fields say: a tagged union, a
/// reference by one of several keys, a string enum, any JSON. It gives its
/// JSON Schema itself, and a value to stand in for it while a containing
/// type's fields are read.
public protocol WireSchemaProviding {
    static func wireSchema(_ shapes: WireShapes) -> JSONValue
    static var wireSample: Self { get }
}

/// String enums are their cases.
extension WireSchemaProviding where Self: CaseIterable & RawRepresentable, RawValue == String {
    public static func wireSchema(_ shapes: WireShapes) -> JSONValue {
        ["type": "string", "enum": .array(allCases.map { .string($0.rawValue) })]
    }
}

/// The fields of one object type, in the order its `init(from:)` reads
/// them (the order of declaration, for a synthesized one).
public struct ObjectShape: Sendable {
    public struct Field: Sendable {
        public var name: String
        public var schema: JSONValue
        public var required: Bool
        public var description: String

        /// The schema with the description beside it.
        var described: JSONValue {
            guard case .object(var object) = schema, !description.isEmpty else { return schema }
            object["description"] = .string(description)
            return .object(object)
        }
    }

    public var name: String
    public var summary: String
    public var fields: [Field]
    /// For a tagged union: each variant's object schema.
    public var variants: [JSONValue] = []

    /// The JSON Schema: every field documented, nothing else allowed.
    public var schema: JSONValue {
        if !variants.isEmpty {
            return ["description": .string(summary), "oneOf": .array(variants)]
        }
        var object: [String: JSONValue] = [
            "type": "object",
            "additionalProperties": false,
            "properties": .object(Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.described) })),
        ]
        let required = fields.filter(\.required).map { JSONValue.string($0.name) }
        if !required.isEmpty { object["required"] = .array(required) }
        if !summary.isEmpty { object["description"] = .string(summary) }
        return .object(object)
    }
}

/// Reads the wire shape of `Decodable` types from their own `init(from:)`:
/// a decoder that hands out stand-in values and writes down each key asked
/// for, its type, and whether it was asked for only if present. What a type
/// reads is what the contract says it reads: the shapes cannot drift from
/// the code. Structs become named components (`#/components/schemas/NAME`);
/// their field descriptions and refinements come from `WireDocumented`.
public final class WireShapes {
    /// Every object type met, by component name.
    public private(set) var objects: [String: ObjectShape] = [:]
    private var samples: [String: Any] = [:]
    private var reading: Set<String> = []

    public init() {}

    /// The component name of a type: its qualified name without the module
    /// and dots (`NodeInfo.Result` → `NodeInfoResult`).
    public static func componentName(_ type: Any.Type) -> String {
        let qualified = String(reflecting: type)
        let parts = qualified.split(separator: ".")
        return parts.dropFirst(parts.count > 1 ? 1 : 0).joined()
    }

    /// The schema of `type` where it is used: a `$ref` for an object type.
    public func schema<T: Decodable>(_ type: T.Type) throws -> JSONValue {
        try shape(type).schema
    }

    private func shape<T: Decodable>(_ type: T.Type) throws -> (schema: JSONValue, sample: T) {
        if let provider = type as? any WireSchemaProviding.Type {
            return try provided(provider, as: type)
        }
        if let primitive = Self.primitive(type) { return primitive }
        if let union = type as? any WireTaggedUnion.Type {
            return try tagged(union, as: type)
        }
        if let array = type as? any WireArray.Type {
            let items = try array.elementSchema(self)
            guard let empty = array.empty as? T else { throw ShapeError("no empty \(type)") }
            return (["type": "array", "items": items], empty)
        }
        if let dictionary = type as? any WireDictionary.Type {
            let values = try dictionary.valueSchema(self)
            guard let empty = dictionary.empty as? T else { throw ShapeError("no empty \(type)") }
            return (["type": "object", "additionalProperties": values], empty)
        }
        let name = Self.componentName(type)
        let reference: JSONValue = ["$ref": .string("#/components/schemas/\(name)")]
        if let sample = samples[name] as? T { return (reference, sample) }
        guard reading.insert(name).inserted else { throw ShapeError("\(name) contains itself") }
        defer { reading.remove(name) }
        let log = FieldLog()
        let sample = try T(from: ShapeDecoder(shapes: self, log: log, tag: nil))
        let documented = type as? any WireDocumented.Type
        let notes = documented?.wireFields ?? [:]
        var fields: [ObjectShape.Field] = []
        for entry in log.entries {
            let note = notes[entry.key]
            fields.append(ObjectShape.Field(
                name: entry.key, schema: note.map { $0.refine(entry.schema) } ?? entry.schema,
                required: !log.optional.contains(entry.key), description: note?.description ?? ""))
        }
        objects[name] = ObjectShape(name: name, summary: documented?.wireSummary ?? "", fields: fields)
        samples[name] = sample
        return (reference, sample)
    }

    /// A union tagged by one string field: read once per tag, each read
    /// giving one variant (`oneOf`), its tag a `const`.
    private func tagged<T: Decodable>(_ union: any WireTaggedUnion.Type, as type: T.Type) throws -> (schema: JSONValue, sample: T) {
        let name = Self.componentName(type)
        let reference: JSONValue = ["$ref": .string("#/components/schemas/\(name)")]
        if let sample = samples[name] as? T { return (reference, sample) }
        let notes = (type as? any WireDocumented.Type)?.wireFields ?? [:]
        var variants: [JSONValue] = []
        var first: T?
        for tag in union.wireTags {
            let log = FieldLog()
            let value = try T(from: ShapeDecoder(shapes: self, log: log, tag: (union.wireTagKey, tag)))
            if first == nil { first = value }
            let fields = log.entries.map { entry in
                ObjectShape.Field(name: entry.key, schema: notes[entry.key].map { $0.refine(entry.schema) } ?? entry.schema,
                                  required: !log.optional.contains(entry.key), description: notes[entry.key]?.description ?? "")
            }
            variants.append(ObjectShape(name: "\(name).\(tag)", summary: "", fields: fields).schema)
        }
        guard let sample = first else { throw ShapeError("\(name) has no tags") }
        objects[name] = ObjectShape(name: name, summary: (type as? any WireDocumented.Type)?.wireSummary ?? "", fields: [], variants: variants)
        samples[name] = sample
        return (reference, sample)
    }

    private func provided<T, P: WireSchemaProviding>(_ provider: P.Type, as: T.Type) throws -> (schema: JSONValue, sample: T) {
        guard let sample = P.wireSample as? T else { throw ShapeError("no sample of \(T.self)") }
        return (P.wireSchema(self), sample)
    }

    fileprivate func value<T: Decodable>(_ type: T.Type) throws -> (schema: JSONValue, sample: T) {
        try shape(type)
    }

    private static func integer<I: FixedWidthInteger>(_ type: I.Type) -> JSONValue {
        let minimum: JSONValue = I.isSigned ? .int(Int64(I.min)) : .int(0)
        let maximum: JSONValue = I.isSigned ? .int(Int64(I.max)) : .uint(UInt64(I.max))
        return ["type": "integer", "minimum": minimum, "maximum": maximum]
    }

    private static func primitive<T>(_ type: T.Type) -> (schema: JSONValue, sample: T)? {
        func pair<V>(_ schema: JSONValue, _ value: V) -> (schema: JSONValue, sample: T)? {
            (value as? T).map { (schema, $0) }
        }
        switch type {
        case is String.Type: return pair(["type": "string"], "")
        case is Bool.Type: return pair(["type": "boolean"], false)
        case is Double.Type: return pair(["type": "number"], 0.0)
        case is Int.Type: return pair(integer(Int.self), 0 as Int)
        case is Int64.Type: return pair(integer(Int64.self), 0 as Int64)
        case is Int32.Type: return pair(integer(Int32.self), 0 as Int32)
        case is UInt64.Type: return pair(integer(UInt64.self), 0 as UInt64)
        case is UInt32.Type: return pair(integer(UInt32.self), 0 as UInt32)
        case is UInt16.Type: return pair(integer(UInt16.self), 0 as UInt16)
        case is Date.Type: return pair(["type": "string", "format": "date-time"], Date(timeIntervalSince1970: 0))
        default: return nil
        }
    }
}

struct ShapeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// An enum written as an object with a string field that says which case
/// it is (`AttachTarget`'s `type`). Its `init(from:)` is read once per tag.
public protocol WireTaggedUnion: Decodable {
    static var wireTagKey: String { get }
    static var wireTags: [String] { get }
}

protocol WireArray {
    static func elementSchema(_ shapes: WireShapes) throws -> JSONValue
    static var empty: Any { get }
}

extension Array: WireArray where Element: Decodable {
    static func elementSchema(_ shapes: WireShapes) throws -> JSONValue { try shapes.schema(Element.self) }
    static var empty: Any { [Element]() }
}

protocol WireDictionary {
    static func valueSchema(_ shapes: WireShapes) throws -> JSONValue
    static var empty: Any { get }
}

extension Dictionary: WireDictionary where Key == String, Value: Decodable {
    static func valueSchema(_ shapes: WireShapes) throws -> JSONValue { try shapes.schema(Value.self) }
    static var empty: Any { [String: Value]() }
}

/// What one type's `init(from:)` asked for.
private final class FieldLog {
    var entries: [(key: String, schema: JSONValue)] = []
    /// Keys asked about with `contains` first: `decodeIfPresent` does that.
    var optional: Set<String> = []
}

private struct ShapeDecoder: Decoder {
    let shapes: WireShapes
    let log: FieldLog
    /// The tag key and the value it reads as, for a tagged union.
    let tag: (key: String, value: String)?
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(ShapeContainer<Key>(shapes: shapes, log: log, tag: tag))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        throw ShapeError("a type read as an array must provide its own wire schema")
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        throw ShapeError("a type read as one value must provide its own wire schema")
    }
}

private struct ShapeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let shapes: WireShapes
    let log: FieldLog
    let tag: (key: String, value: String)?
    var codingPath: [CodingKey] = []
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool {
        log.optional.insert(key.stringValue)
        return true
    }

    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        if let tag, key.stringValue == tag.key, let value = tag.value as? T {
            log.entries.append((key.stringValue, ["const": .string(tag.value)]))
            return value
        }
        let (schema, sample) = try shapes.value(type)
        if !log.entries.contains(where: { $0.key == key.stringValue }) {
            log.entries.append((key.stringValue, schema))
        }
        return sample
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(type, key) }

    private func decode<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        try decode(type, forKey: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw ShapeError("nested containers need their own wire schema")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        throw ShapeError("nested containers need their own wire schema")
    }

    func superDecoder() throws -> Decoder { throw ShapeError("no super decoders on the wire") }
    func superDecoder(forKey key: Key) throws -> Decoder { throw ShapeError("no super decoders on the wire") }
}

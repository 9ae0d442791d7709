/// What the contract says of a type's fields that their Swift types do not:
/// a sentence for a person, and for a plain `String` or integer field, the
/// values or range the server holds it to.
public protocol WireDocumented {
    /// What the type is, in a sentence.
    static var wireSummary: String { get }
    /// Every field by its wire name. The contract test fails on a field
    /// without one, and on one that names no field.
    static var wireFields: [String: WireField] { get }
}

/// One field's description and refinements.
public struct WireField: Sendable, ExpressibleByStringLiteral {
    public var description: String
    /// The only strings the field holds.
    public var values: [String]?
    public var minimum: Int64?
    public var maximum: Int64?
    /// A string's pattern (ECMA 262), e.g. probe names.
    public var pattern: String?

    public init(_ description: String, values: [String]? = nil, minimum: Int64? = nil, maximum: Int64? = nil, pattern: String? = nil) {
        self.description = description
        self.values = values
        self.minimum = minimum
        self.maximum = maximum
        self.pattern = pattern
    }

    public init(stringLiteral description: String) {
        self.init(description)
    }

    /// The field's schema from its type, narrowed by what this says; an
    /// array's refinements apply to its items.
    func refine(_ schema: JSONValue) -> JSONValue {
        guard values != nil || minimum != nil || maximum != nil || pattern != nil else { return schema }
        guard case .object(var object) = schema else { return schema }
        if object["type"] == "array", let items = object["items"] {
            object["items"] = refine(items)
            return .object(object)
        }
        if let values { object["enum"] = .array(values.map { .string($0) }) }
        if let minimum { object["minimum"] = .int(minimum) }
        if let maximum { object["maximum"] = .int(maximum) }
        if let pattern { object["pattern"] = .string(pattern) }
        return .object(object)
    }
}

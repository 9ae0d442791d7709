import Foundation

/// `map.list`: maps of one probe, or of every probe.
public struct MapList: RPCMethod {
    public static let method = "map.list"
    public var probe: String?
    public init(probe: String? = nil) { self.probe = probe }

    public struct Result: Codable, Sendable, Hashable {
        public var maps: [LoadedMap]
        public init(maps: [LoadedMap]) { self.maps = maps }
    }
}

/// `map.snapshot`: every entry of a map at one moment.
public struct MapSnapshot: RPCMethod {
    public static let method = "map.snapshot"
    public var map: MapRef
    public var format: ValueFormat?
    public var limit: Int?
    /// Stacks as frames (docs/protocol.md, "Stacks"): a stack trace map's
    /// values, or the stacks the stack-id members of each entry name.
    public var symbolize: Bool?
    /// With `symbolize`, for a map holding stack ids: the stack trace map
    /// they index, when the probe has more than one.
    public var stackMap: String?

    public init(map: MapRef, format: ValueFormat? = nil, limit: Int? = nil, symbolize: Bool? = nil, stackMap: String? = nil) {
        self.map = map
        self.format = format
        self.limit = limit
        self.symbolize = symbolize
        self.stackMap = stackMap
    }

    public struct Result: Codable, Sendable, Hashable {
        public var entries: [MapEntry]
        public var count: Int
        public var truncated: Bool
        public var takenAt: Date

        public init(entries: [MapEntry], count: Int, truncated: Bool, takenAt: Date) {
            self.entries = entries
            self.count = count
            self.truncated = truncated
            self.takenAt = takenAt
        }
    }
}

/// `map.lookup`: one entry by key.
public struct MapLookup: RPCMethod {
    public static let method = "map.lookup"
    public var map: MapRef
    public var key: JSONValue
    public var format: ValueFormat?
    /// Stacks as frames, as `map.snapshot` takes it (docs/protocol.md, "Stacks").
    public var symbolize: Bool?
    public var stackMap: String?

    public init(map: MapRef, key: JSONValue, format: ValueFormat? = nil, symbolize: Bool? = nil, stackMap: String? = nil) {
        self.map = map
        self.key = key
        self.format = format
        self.symbolize = symbolize
        self.stackMap = stackMap
    }

    public typealias Result = MapEntry
}

/// `map.update`: set one entry.
public struct MapUpdate: RPCMethod {
    public static let method = "map.update"
    public static let changesNode = true
    public var map: MapRef
    public var key: JSONValue
    public var value: JSONValue
    public var format: ValueFormat?
    /// `any` (default), `noexist` (create only) or `exist` (replace only).
    public var flags: String?

    public init(map: MapRef, key: JSONValue, value: JSONValue, format: ValueFormat? = nil, flags: String? = nil) {
        self.map = map
        self.key = key
        self.value = value
        self.format = format
        self.flags = flags
    }

    public typealias Result = EmptyResult
}

/// `map.delete`: remove one entry.
public struct MapDelete: RPCMethod {
    public static let method = "map.delete"
    public static let changesNode = true
    public var map: MapRef
    public var key: JSONValue
    public var format: ValueFormat?

    public init(map: MapRef, key: JSONValue, format: ValueFormat? = nil) {
        self.map = map
        self.key = key
        self.format = format
    }

    public typealias Result = EmptyResult
}

extension MapList {
    public static let wireSummary = "The maps of one probe, or of every probe."
    public static let wireFields: [String: WireField] = ["probe": "The probe whose maps to list; every probe's when absent."]
    public static let errors: [ErrorCode] = [.notFound, .conflict]
    public static let example = MapList(probe: "execs")
    public static var exampleResult: Result { Result(maps: [.example]) }
}

extension MapList.Result: WireDocumented {
    public static let wireSummary = "The maps."
    public static let wireFields: [String: WireField] = ["maps": "Each map, by probe and name."]
}

extension MapSnapshot {
    public static let wireSummary = "Every entry of a map at one moment, keys and values typed through BTF or in hex (docs/values.md)."
    public static let wireFields: [String: WireField] = [
        "map": "The map.",
        "format": "`typed` (default): keys and values as their BTF types say; `hex`: their bytes.",
        "limit": WireField("The most entries to answer; past it the answer is `truncated`.", minimum: 0),
        "symbolize": "Stacks as frames (docs/protocol.md, \"Stacks\"): a stack trace map's values, or the stacks the stack-id members of each entry name.",
        "stackMap": "With `symbolize`, for a map holding stack ids: the stack trace map they index, when the probe has more than one.",
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .kernelError]
    public static let example = MapSnapshot(map: .named(probe: "execs", name: "counts"))
    public static let exampleResult = Result(entries: [MapEntry(key: 0, value: 1234)], count: 1, truncated: false, takenAt: exampleDate)
}

extension MapSnapshot.Result: WireDocumented {
    public static let wireSummary = "The map's entries."
    public static let wireFields: [String: WireField] = [
        "entries": "Each entry, in the kernel's order.",
        "count": "Entries answered.",
        "truncated": "True when the map held more than `limit`.",
        "takenAt": "When the map was read.",
    ]
}

extension MapLookup {
    public static let wireSummary = "One entry of a map, by key."
    public static let wireFields: [String: WireField] = [
        "map": "The map.",
        "key": "The key, typed or hex as `format` says.",
        "format": "`typed` (default) or `hex`, for the key sent and the entry answered.",
        "symbolize": "Stacks as frames, as `map.snapshot` takes it.",
        "stackMap": "With `symbolize`: the stack trace map the entry's stack ids index.",
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .kernelError]
    public static let example = MapLookup(map: .named(probe: "execs", name: "counts"), key: 0)
    public static let exampleResult = MapEntry(key: 0, value: 1234)
}

extension MapUpdate {
    public static let wireSummary = "Sets one entry of a map."
    public static let wireFields: [String: WireField] = [
        "map": "The map.",
        "key": "The key, typed or hex as `format` says.",
        "value": "The value, typed or hex as `format` says.",
        "format": "`typed` (default) or `hex`.",
        "flags": WireField("`any` (default), `noexist` (create only; an existing key is -32004) or `exist` (replace only; a missing key is -32003).",
                           values: ["any", "noexist", "exist"]),
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .limitExceeded, .kernelError]
    public static let example = MapUpdate(map: .named(probe: "execs", name: "counts"), key: 0, value: 0)
    public static let exampleResult = EmptyResult()
}

extension MapDelete {
    public static let wireSummary = "Removes one entry of a map."
    public static let wireFields: [String: WireField] = [
        "map": "The map.",
        "key": "The key, typed or hex as `format` says.",
        "format": "`typed` (default) or `hex`.",
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .kernelError]
    public static let example = MapDelete(map: .named(probe: "execs", name: "counts"), key: 0)
    public static let exampleResult = EmptyResult()
}

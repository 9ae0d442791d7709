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

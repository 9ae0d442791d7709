import Foundation

/// How a map watch reports: the whole map each time, or what changed.
public enum WatchMode: String, Codable, Sendable, CaseIterable {
    case full
    case delta
}

/// `map.watch`: a `subscription.map` notification every interval.
public struct MapWatch: RPCMethod {
    public static let method = "map.watch"
    public static let minimumIntervalMs = 100
    public var map: MapRef
    public var intervalMs: Int
    public var mode: WatchMode?
    public var format: ValueFormat?
    /// Stacks as frames, as `map.snapshot` takes it (docs/protocol.md, "Stacks").
    public var symbolize: Bool?
    public var stackMap: String?

    public init(map: MapRef, intervalMs: Int, mode: WatchMode? = nil, format: ValueFormat? = nil,
                symbolize: Bool? = nil, stackMap: String? = nil) {
        self.map = map
        self.intervalMs = intervalMs
        self.mode = mode
        self.format = format
        self.symbolize = symbolize
        self.stackMap = stackMap
    }

    public struct Result: Codable, Sendable, Hashable {
        public var subscription: Int
        public init(subscription: Int) { self.subscription = subscription }
    }
}

/// `events.subscribe`: records of a ring buffer or perf event array, as
/// `subscription.events` notifications.
public struct EventsSubscribe: RPCMethod {
    public static let method = "events.subscribe"
    public var map: MapRef
    /// A BTF type of the object (`struct exec_event`) to decode records with.
    public var recordType: String?

    public init(map: MapRef, recordType: String? = nil) {
        self.map = map
        self.recordType = recordType
    }

    public typealias Result = MapWatch.Result
}

/// `subscription.cancel`: stop a subscription of this connection.
public struct SubscriptionCancel: RPCMethod {
    public static let method = "subscription.cancel"
    public var subscription: Int
    public init(subscription: Int) { self.subscription = subscription }
    public typealias Result = EmptyResult
}

/// `subscription.map` notification params.
public struct MapNotification: Codable, Sendable, Hashable {
    public static let method = "subscription.map"
    public var subscription: Int
    public var seq: Int
    public var takenAt: Date
    /// Full mode: every entry.
    public var entries: [MapEntry]?
    /// Delta mode: entries new or changed, and keys gone.
    public var set: [MapEntry]?
    public var removed: [JSONValue]?

    public init(subscription: Int, seq: Int, takenAt: Date, entries: [MapEntry]? = nil, set: [MapEntry]? = nil, removed: [JSONValue]? = nil) {
        self.subscription = subscription
        self.seq = seq
        self.takenAt = takenAt
        self.entries = entries
        self.set = set
        self.removed = removed
    }
}

/// `subscription.events` notification params.
public struct EventsNotification: Codable, Sendable, Hashable {
    public static let method = "subscription.events"
    public var subscription: Int
    public var seq: Int
    public var records: [JSONValue]
    /// Records dropped (by the kernel or the server) since the previous notification.
    public var lost: Int

    public init(subscription: Int, seq: Int, records: [JSONValue], lost: Int) {
        self.subscription = subscription
        self.seq = seq
        self.records = records
        self.lost = lost
    }
}

/// `subscription.end` notification params.
public struct SubscriptionEnd: Codable, Sendable, Hashable {
    public static let method = "subscription.end"
    public var subscription: Int
    public var reason: String

    public init(subscription: Int, reason: String) {
        self.subscription = subscription
        self.reason = reason
    }
}

import Foundation

/// How a map watch reports: the whole map each time, or what changed.
public enum WatchMode: String, Codable, Sendable, CaseIterable, WireSchemaProviding {
    case full
    case delta

    public static let wireSample = WatchMode.full
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
public struct MapNotification: RPCNotification, Hashable {
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
public struct EventsNotification: RPCNotification, Hashable {
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
public struct SubscriptionEnd: RPCNotification, Hashable {
    public static let method = "subscription.end"
    public var subscription: Int
    public var reason: String

    public init(subscription: Int, reason: String) {
        self.subscription = subscription
        self.reason = reason
    }
}

extension MapWatch {
    public static let wireSummary = "Watches a map: a `subscription.map` notification every interval on this connection, the whole map or what changed, until `subscription.cancel`, the connection's end, or the map's (`subscription.end`)."
    public static let wireFields: [String: WireField] = [
        "map": "The map.",
        "intervalMs": WireField("Milliseconds between notifications, at least 100.", minimum: Int64(minimumIntervalMs)),
        "mode": "`full` (default): every entry each time; `delta`: entries new or changed, and keys gone.",
        "format": "`typed` (default) or `hex`.",
        "symbolize": "Stacks as frames, as `map.snapshot` takes it.",
        "stackMap": "With `symbolize`: the stack trace map the entries' stack ids index.",
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .limitExceeded]
    public static let example = MapWatch(map: .named(probe: "execs", name: "counts"), intervalMs: 1000, mode: .delta)
    public static let exampleResult = Result(subscription: 1)
}

extension MapWatch.Result: WireDocumented {
    public static let wireSummary = "The subscription."
    public static let wireFields: [String: WireField] = [
        "subscription": WireField("The subscription's id on this connection: its notifications carry it.", minimum: 1),
    ]
}

extension EventsSubscribe {
    public static let wireSummary = "Streams the records of a ring buffer or perf event array map as `subscription.events` notifications on this connection."
    public static let wireFields: [String: WireField] = [
        "map": "The ring buffer or perf event array.",
        "recordType": "A BTF type of the object (`struct exec_event`) to decode records with; records are hex without it.",
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .limitExceeded, .kernelError]
    public static let example = EventsSubscribe(map: .named(probe: "execsnoop", name: "events"), recordType: "struct exec_event")
    public static let exampleResult = Result(subscription: 2)
}

extension SubscriptionCancel {
    public static let wireSummary = "Ends a subscription of this connection; its `subscription.end` follows, with reason `cancelled`."
    public static let wireFields: [String: WireField] = ["subscription": WireField("The subscription's id.", minimum: 1)]
    public static let errors: [ErrorCode] = [.notFound]
    public static let example = SubscriptionCancel(subscription: 1)
    public static let exampleResult = EmptyResult()
}

extension MapNotification {
    public static let wireSummary = "A watched map, each interval (`map.watch`)."
    public static let wireFields: [String: WireField] = [
        "subscription": "The subscription's id.",
        "seq": WireField("Counts from 1; a gap means intervals were skipped (the client read too slowly).", minimum: 1),
        "takenAt": "When the map was read.",
        "entries": "Full mode: every entry.",
        "set": "Delta mode: entries new or changed since the previous notification.",
        "removed": "Delta mode: keys gone since the previous notification.",
    ]
    public static let example = MapNotification(subscription: 1, seq: 7, takenAt: exampleDate, set: [MapEntry(key: 0, value: 1240)], removed: [])
}

extension EventsNotification {
    public static let wireSummary = "Records of a ring buffer or perf event array (`events.subscribe`), as they come."
    public static let wireFields: [String: WireField] = [
        "subscription": "The subscription's id.",
        "seq": WireField("Counts from 1.", minimum: 1),
        "records": "The records, typed with `recordType`, else hex strings.",
        "lost": WireField("Records dropped (by the kernel or the server) since the previous notification.", minimum: 0),
    ]
    public static let example = EventsNotification(subscription: 2, seq: 1, records: [["pid": 4242, "comm": "bash"]], lost: 0)
}

extension SubscriptionEnd {
    public static let wireSummary = "A subscription ended: the last message about it."
    public static let wireFields: [String: WireField] = [
        "subscription": "The subscription's id.",
        "reason": "Why: `cancelled` (`subscription.cancel`), `probe unloaded`, `probe replaced`, or `map read failed: ...` / `event stream failed: ...` with the error's text.",
    ]
    public static let example = SubscriptionEnd(subscription: 1, reason: "cancelled")
}

import BpfleetShared
import Logging
import NIOConcurrencyHelpers

/// Every live subscription on the node: ids, which connection and probe
/// each belongs to, and how to end it. A probe's unload ends its
/// subscriptions; a connection's end cancels its own.
final class SubscriptionHub: Sendable {
    struct Entry: Sendable {
        var probe: String
        var connection: ConnectionHandle
        var task: Task<Void, Never>
        /// The ring buffer or perf event array an event subscription reads.
        var eventMap: UInt32?
    }

    /// A subscription granted and not started yet. Its probe's unload in
    /// that moment ends it before it starts (`ended`), so that it never
    /// starts on a probe that is gone.
    private struct Granted {
        var connection: ConnectionHandle
        var probe: String
        var ended: String?
    }

    private struct State {
        var nextID = 1
        var active: [Int: Entry] = [:]
        /// Granted, but not started yet (the reply is on its way): they
        /// count against the connection's limit too.
        var granted: [Int: Granted] = [:]
        /// Event maps with a reader, by kernel map id: reserved from the
        /// moment a subscription is granted.
        var eventMaps: [UInt32: Int] = [:]
    }

    private let state = NIOLockedValueBox(State())
    /// Subscriptions running now (the metrics' `bpfleet_subscriptions`).
    var openCount: Int { state.withLockedValue { $0.active.count } }
    let maxPerConnection: Int
    /// The shared reads behind map watches.
    let tickers = MapTickerBook()

    init(maxPerConnection: Int) {
        self.maxPerConnection = maxPerConnection
    }

    /// Reserves an id for a new subscription of `connection`, or says
    /// which limit is in the way.
    /// A ring buffer hands each record to one reader, so an event map has
    /// at most one subscription at a time.
    func reserve(for connection: ConnectionHandle, probe: String, eventMap: UInt32? = nil) throws(ResponseError) -> Int {
        let result: Result<Int, ResponseError> = state.withLockedValue { state in
            let open = state.active.values.filter { $0.connection === connection }.count
                + state.granted.values.filter { $0.connection === connection }.count
            guard open < maxPerConnection else {
                return .failure(.limitExceeded("maxSubscriptions", maxPerConnection,
                                               "this connection has \(maxPerConnection) subscriptions, the limit; cancel one first"))
            }
            if let eventMap, let holder = state.eventMaps[eventMap] {
                return .failure(.conflict("subscription \(holder) already streams this map; each record goes to one reader",
                                          ["subscription": .int(Int64(holder))]))
            }
            defer { state.nextID += 1 }
            if let eventMap { state.eventMaps[eventMap] = state.nextID }
            state.granted[state.nextID] = Granted(connection: connection, probe: probe)
            return .success(state.nextID)
        }
        return try result.get()
    }

    /// Gives back an event map reserved by `id`.
    private static func releaseEventMap(_ id: Int, in state: inout State) {
        for (map, holder) in state.eventMaps where holder == id { state.eventMaps[map] = nil }
    }

    /// Starts a granted subscription, its reply now on the wire: runs
    /// `body` in a task held as active until it ends. A `body` that fails
    /// (the map cannot be read, the client is gone) ends the subscription
    /// with `subscription.end` saying `"\(failure): \(error)"`. When the
    /// probe was unloaded or replaced since the grant, `body` never runs
    /// and the subscriber is told why.
    func start(_ id: Int, failure: String, logger: Logger, _ body: @escaping @Sendable () async throws -> Void) {
        let outcome = state.withLockedValue { state -> (ConnectionHandle, ended: String?)? in
            guard let granted = state.granted.removeValue(forKey: id) else { return nil }
            if let reason = granted.ended {
                Self.releaseEventMap(id, in: &state)
                return (granted.connection, reason)
            }
            let connection = granted.connection
            let task = Task {
                do {
                    try await body()
                } catch where !Task.isCancelled {
                    logger.debug("subscription ended", metadata: ["subscription": "\(id)", "error": "\(error)"])
                    await connection.notifyEnd(id, reason: "\(failure): \(error)")
                } catch {}
                self.finished(id)
            }
            state.active[id] = Entry(probe: granted.probe, connection: connection, task: task)
            return (connection, nil)
        }
        if case let (connection, ended?)? = outcome {
            Task { await connection.notifyEnd(id, reason: ended) }
        }
    }

    /// A granted subscription that never started (its reply could not be sent).
    func abandon(_ id: Int) {
        state.withLockedValue { state in
            state.granted[id] = nil
            Self.releaseEventMap(id, in: &state)
        }
    }

    /// Removes a subscription that ended by itself.
    func finished(_ id: Int) {
        state.withLockedValue { state in
            state.active[id] = nil
            Self.releaseEventMap(id, in: &state)
        }
    }

    /// Cancels a subscription of `connection` and hands back its task (to
    /// await its end); nil if the connection has none by that id.
    func cancel(_ id: Int, by connection: ConnectionHandle) -> Task<Void, Never>? {
        let entry = state.withLockedValue { state -> Entry? in
            guard let entry = state.active[id], entry.connection === connection else { return nil }
            state.active[id] = nil
            return entry
        }
        entry?.task.cancel()
        return entry?.task
    }

    /// Ends every subscription of a probe, telling each subscriber why.
    func endAll(probe: String, reason: String) async {
        let ended = state.withLockedValue { state -> [(Int, Entry)] in
            let matching = state.active.filter { $0.value.probe == probe }
            for id in matching.keys { state.active[id] = nil }
            // Those whose reply is on its way end as they start.
            for (id, granted) in state.granted where granted.probe == probe && granted.ended == nil {
                state.granted[id]?.ended = reason
            }
            return Array(matching)
        }
        for (id, entry) in ended {
            entry.task.cancel()
            await entry.task.value
            // Told without waiting: a subscriber that stopped reading must
            // not hold up the unload.
            Task { await entry.connection.notifyEnd(id, reason: reason) }
        }
    }

    /// A connection closed: its subscriptions stop and free what they held.
    func connectionClosed(_ connection: ConnectionHandle) {
        let ended = state.withLockedValue { state -> [Entry] in
            let matching = state.active.filter { $0.value.connection === connection }
            for id in matching.keys { state.active[id] = nil }
            state.granted = state.granted.filter { $0.value.connection !== connection }
            return Array(matching.values)
        }
        for entry in ended { entry.task.cancel() }
    }

    var count: Int { state.withLockedValue { $0.active.count } }

    /// Whether a connection has live subscriptions (it is then not idle).
    func isSubscribed(_ connection: ConnectionHandle) -> Bool {
        state.withLockedValue { $0.active.values.contains { $0.connection === connection } }
    }
}

/// The connection a call came on: where its notifications go.
final class ConnectionHandle: Sendable {
    let sink: any ReplySink

    init(sink: any ReplySink) {
        self.sink = sink
    }

    func notifyEnd(_ id: Int, reason: String) async {
        try? await sink.write(OutgoingNotification.line(SubscriptionEnd(subscription: id, reason: reason)))
    }
}

import Foundation

/// What `LineServer` sends after answering `map.watch` or
/// `events.subscribe`, by the map's name. Params are written out as text,
/// so tests can expect them byte for byte.
enum SubscriptionScripts {
    struct Notification {
        var method: String
        /// The params' text for a subscription id.
        var params: (Int) -> String
    }

    static func map(_ body: @escaping (Int) -> String) -> Notification {
        Notification(method: "subscription.map", params: body)
    }

    static func events(_ body: @escaping (Int) -> String) -> Notification {
        Notification(method: "subscription.events", params: body)
    }

    static func end(_ reason: String) -> Notification {
        Notification(method: "subscription.end") { #"{"subscription":\#($0),"reason":"\#(reason)"}"# }
    }

    static func notifications(method: String, map: String) -> [Notification]? {
        switch (method, map) {
        case ("map.watch", "counts"):
            // Full snapshots; seq 3 was coalesced away.
            return [
                self.map { #"{"subscription":\#($0),"seq":1,"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":1,"value":10},{"key":2,"value":100},{"key":3,"value":"x"}]}"# },
                self.map { #"{"subscription":\#($0),"seq":2,"takenAt":"2025-01-02T03:04:06Z","entries":[{"key":1,"value":15},{"key":2,"value":130},{"key":3,"value":"x"}]}"# },
                self.map { #"{"subscription":\#($0),"seq":4,"takenAt":"2025-01-02T03:04:08Z","entries":[{"key":1,"value":35},{"key":2,"value":150}]}"# },
            ]
        case ("map.watch", "ends"):
            return [
                self.map { #"{"subscription":\#($0),"seq":1,"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":"a","value":{"count":1}}]}"# },
                end("probe unloaded"),
            ]
        case ("map.watch", "delta"):
            return [
                self.map { #"{"subscription":\#($0),"seq":1,"takenAt":"2025-01-02T03:04:05Z","set":[{"key":1,"value":10},{"key":2,"value":20}],"removed":[]}"# },
                self.map { #"{"subscription":\#($0),"seq":2,"takenAt":"2025-01-02T03:04:06Z","set":[{"key":2,"value":25},{"key":3,"value":30}],"removed":[1]}"# },
            ]
        case ("map.watch", "delta-flood"):
            // Key k is set to k and key k-2 removed at seq k: at the end,
            // the map holds keys 49 and 50 only.
            return (1...50).map { seq in
                self.map {
                    #"{"subscription":\#($0),"seq":\#(seq),"takenAt":"2025-01-02T03:04:05Z","set":[{"key":\#(seq),"value":\#(seq)}],"removed":[\#(seq > 2 ? String(seq - 2) : "")]}"#
                }
            }
        case ("map.watch", "flood"):
            return (1...40).map { seq in
                self.map { #"{"subscription":\#($0),"seq":\#(seq),"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":0,"value":\#(seq)}]}"# }
            }
        case ("map.watch", "quiet"), ("map.watch", "slow"), ("events.subscribe", "quiet"):
            return []
        case ("events.subscribe", "events"):
            return [
                events { #"{"subscription":\#($0),"seq":1,"records":[{"pid":1,"comm":"sh"},{"pid":2,"comm":"ls"}],"lost":0}"# },
                events { #"{"subscription":\#($0),"seq":2,"records":[{"pid":3,"comm":"cat"}],"lost":4}"# },
            ]
        case ("events.subscribe", "events-end"):
            return [
                events { #"{"subscription":\#($0),"seq":1,"records":["0a0b"],"lost":0}"# },
                end("map gone"),
            ]
        case ("events.subscribe", "events-flood"):
            // 40 notifications of 2 records each, and 1 lost before each.
            return (1...40).map { seq in
                events { #"{"subscription":\#($0),"seq":\#(seq),"records":[{"n":\#(2 * seq - 1)},{"n":\#(2 * seq)}],"lost":1}"# }
            }
        default:
            return nil
        }
    }
}

/// The messages a `LineServer` received, across its connections.
final class ReceivedMessages: @unchecked Sendable {
    struct Message: Sendable, Equatable {
        var method: String
        var params: String
        var isNotification: Bool
    }

    private let lock = NSLock()
    private var messages: [Message] = []

    func append(_ message: Message) {
        lock.lock()
        messages.append(message)
        lock.unlock()
    }

    var all: [Message] {
        lock.lock()
        defer { lock.unlock() }
        return messages
    }

    func named(_ method: String) -> [Message] {
        all.filter { $0.method == method }
    }

    /// Waits (up to 10 s) until a message of `method` has arrived.
    func waitFor(_ method: String) async throws -> [Message] {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let found = named(method)
            if !found.isEmpty { return found }
            try await Task.sleep(for: .milliseconds(10))
        }
        return []
    }
}

/// How many notifications a `LineServer` stream has written.
final class StreamProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func add() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    /// Waits (up to 20 s) until the count has not moved for half a second:
    /// the writer is stalled (or done). Returns the count.
    func settled() async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(20)
        var last = value
        var still = 0
        while ContinuousClock.now < deadline && still < 5 {
            try await Task.sleep(for: .milliseconds(100))
            let now = value
            still = now == last ? still + 1 : 0
            last = now
        }
        return last
    }

    /// Waits until the count reaches `target`, or until it has not moved
    /// for 20 s (the writer is stuck: however slow the machine, a writer
    /// that is not held back keeps counting); returns it.
    func reaches(_ target: Int) async throws -> Int {
        var last = value
        var lastMoved = ContinuousClock.now
        while last < target {
            try await Task.sleep(for: .milliseconds(10))
            let now = value
            if now != last {
                last = now
                lastMoved = ContinuousClock.now
            } else if ContinuousClock.now - lastMoved > .seconds(20) {
                break
            }
        }
        return last
    }
}

@testable import BpfleetClient
import BpfleetShared
import Foundation
import NIOCore
import Testing

private func text(_ buffer: ByteBuffer) -> String {
    String(decoding: buffer.readableBytesView, as: UTF8.self)
}

/// Every notification of a subscription until it finishes.
private func drain(_ subscription: Subscription) async throws -> [SubscriptionNotification] {
    var seen: [SubscriptionNotification] = []
    for try await notification in subscription { seen.append(notification) }
    return seen
}

/// Returns once every line the server sent before its answer has been read
/// (within 10 s, so that a connection that stopped reading fails the test).
private func sync(_ connection: NodeConnection) async throws {
    _ = try await withTimeout(.seconds(10), waitingFor: connection.address) {
        try await connection.callRaw(method: "push", params: ["notifications": []])
    }
}

@Suite("subscriptions against a line server")
struct SubscriptionTests {
    @Test("notifications sent right behind the answer reach the subscription, in order; the end finishes it")
    func endFinishes() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let subscription = try await connection.subscribe(MapWatch(map: .named(probe: "p", name: "ends"), intervalMs: 1000))
            #expect(subscription.id == 1)
            let seen = try await drain(subscription)
            #expect(seen.map(\.method) == ["subscription.map", "subscription.end"])
            #expect(seen[0].seq == 1)
            #expect(text(seen[0].params) == #"{"subscription":1,"seq":1,"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":"a","value":{"count":1}}]}"#)
            #expect(seen[1].isEnd)
            #expect(seen[1].endReason == "probe unloaded")
            let decoded = try seen[0].decode(MapNotification.self)
            #expect(decoded.entries == [MapEntry(key: "a", value: ["count": 1])])
            #expect(!subscription.isOpen)
            // The node ended it: nothing to cancel.
            try await subscription.cancel()
            try await sync(connection)
            #expect(server.received.named("subscription.cancel").isEmpty)
            await connection.close()
        }
    }

    @Test("two subscriptions on one connection each get their own; other notifications go to the hook")
    func routingByID() async throws {
        try await LineServer.with { server in
            let (hooked, hook) = AsyncStream.makeStream(of: ServerNotification.self)
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120)) { hook.yield($0) }
            let first = try await connection.subscribe(MapWatch(map: .named(probe: "p", name: "quiet"), intervalMs: 1000))
            let second = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "quiet")))
            #expect(first.id == 1)
            #expect(second.id == 2)
            func map(_ id: Int, _ seq: Int) -> JSONValue {
                ["method": "subscription.map", "params": ["subscription": .int(Int64(id)), "seq": .int(Int64(seq)), "takenAt": "2025-01-02T03:04:05Z", "entries": []]]
            }
            func events(_ id: Int, _ seq: Int) -> JSONValue {
                ["method": "subscription.events", "params": ["subscription": .int(Int64(id)), "seq": .int(Int64(seq)), "records": [.int(Int64(seq))], "lost": 0]]
            }
            _ = try await connection.callRaw(method: "push", params: ["notifications": [
                map(1, 1), events(2, 1), events(99, 1), events(2, 2), map(1, 2),
                ["method": "node.changed", "params": ["what": "x"]],
                ["method": "subscription.end", "params": ["subscription": 2, "reason": "map gone"]],
                map(1, 3),
            ]])
            var firstSeen: [Int?] = []
            for try await notification in first {
                firstSeen.append(notification.seq)
                if firstSeen.count == 3 { break }
            }
            #expect(firstSeen == [1, 2, 3])
            let secondSeen = try await drain(second)
            #expect(secondSeen.map(\.method) == ["subscription.events", "subscription.events", "subscription.end"])
            #expect(secondSeen.map(\.seq) == [1, 2, nil])
            hook.finish()
            let others = await hooked.reduce(into: [String]()) { $0.append("\($1.method) \(text($1.params!))") }
            #expect(others.count == 2)
            #expect(others[0].hasPrefix("subscription.events "))
            #expect(others[0].contains(#""subscription":99"#))
            #expect(others[1] == #"node.changed {"what":"x"}"#)
            await connection.close()
        }
    }

    @Test("cancel() asks the node and ends the iteration")
    func explicitCancel() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let subscription = try await connection.subscribe(MapWatch(map: .named(probe: "p", name: "quiet"), intervalMs: 1000))
            let consumer = Task { try await drain(subscription).count }
            try await Task.sleep(for: .milliseconds(50))
            try await subscription.cancel()
            #expect(try await consumer.value == 0)
            let cancels = server.received.named("subscription.cancel")
            #expect(cancels == [.init(method: "subscription.cancel", params: #"{"subscription":1}"#, isNotification: false)])
            // What the node still sends for it goes nowhere.
            _ = try await connection.callRaw(method: "push", params: ["notifications": [
                ["method": "subscription.map", "params": ["subscription": 1, "seq": 9, "takenAt": "2025-01-02T03:04:05Z", "entries": []]],
            ]])
            #expect(!subscription.isOpen)
            await connection.close()
        }
    }

    @Test("a consumer whose task is cancelled tells the node")
    func consumerCancelled() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let subscription = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "quiet"), recordType: "struct event"))
            let sent = try #require(server.received.named("events.subscribe").first)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(sent.params.utf8))
                == ["map": ["probe": "p", "name": "quiet"], "recordType": "struct event"])
            let consumer = Task { try await drain(subscription).count }
            try await Task.sleep(for: .milliseconds(50))
            consumer.cancel()
            #expect(try await consumer.value == 0)
            let cancels = try await server.received.waitFor("subscription.cancel")
            #expect(cancels == [.init(method: "subscription.cancel", params: #"{"subscription":1}"#, isNotification: true)])
            await connection.close()
        }
    }

    @Test("a subscription let go of is cancelled on the node")
    func droppedSubscription() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            do {
                let subscription = try await connection.subscribe(MapWatch(map: .named(probe: "p", name: "counts"), intervalMs: 1000))
                for try await _ in subscription { break }
            }
            let cancels = try await server.received.waitFor("subscription.cancel")
            #expect(cancels.map(\.params) == [#"{"subscription":1}"#])
            await connection.close()
        }
    }

    @Test("a lost connection ends the subscription with the connection's error, after what had arrived")
    func connectionLost() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let subscription = try await connection.subscribe(MapWatch(map: .named(probe: "p", name: "counts"), intervalMs: 1000))
            await #expect(throws: ClientError.connectionClosed(server.address, reason: nil)) {
                _ = try await connection.callRaw(method: "drop", params: nil)
            }
            var seqs: [Int?] = []
            await #expect(throws: ClientError.connectionClosed(server.address, reason: nil)) {
                for try await notification in subscription { seqs.append(notification.seq) }
            }
            #expect(seqs == [1, 2, 4])
            // And a subscription asked for afterwards fails at once.
            await #expect(throws: ClientError.self) {
                _ = try await connection.subscribe(MapWatch(map: .named(probe: "p", name: "counts"), intervalMs: 1000))
            }
        }
    }

    @Test("a node's refusal is thrown as its error")
    func refused() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            do {
                _ = try await connection.subscribe(MapWatch(map: .named(probe: "p", name: "missing"), intervalMs: 1000))
                Issue.record("expected an error")
            } catch let error as ResponseError {
                #expect(error.code == .notFound)
            }
            await connection.close()
        }
    }

    @Test("a slow consumer of full snapshots gets the newest, told how many were dropped")
    func dropOldest() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let subscription = try await connection.subscribe(MapWatch(map: .named(probe: "p", name: "flood"), intervalMs: 1000), bufferLimit: 4)
            try await sync(connection)
            var seen: [SubscriptionNotification] = []
            for try await notification in subscription {
                seen.append(notification)
                if notification.seq == 40 { break }
            }
            #expect(seen.map(\.seq) == [37, 38, 39, 40])
            #expect(seen.map(\.droppedBefore) == [36, 0, 0, 0])
            await connection.close()
        }
    }

    @Test("a slow consumer of deltas gets them merged, so the map still comes out right")
    func deltasMerged() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let subscription = try await connection.subscribe(
                MapWatch(map: .named(probe: "p", name: "delta-flood"), intervalMs: 1000, mode: .delta), bufferLimit: 3)
            try await sync(connection)
            var map = WatchedMap()
            var seqs: [Int?] = []
            for try await notification in subscription {
                seqs.append(notification.seq)
                try map.apply(notification.params, receivedAt: 0)
                if notification.seq == 50 { break }
            }
            #expect(seqs == [48, 49, 50])
            #expect(map.entries == ["49": "49", "50": "50"])
            await connection.close()
        }
    }

    @Test("events that arrive while a call waits for its answer are kept for a slow consumer, not dropped")
    func eventsKeptBehindCall() async throws {
        // The call's answer lies behind the 40 notifications: the connection
        // reads on past bufferLimit to reach it, and what it reads waits for
        // the consumer (up to byteLimit) instead of being dropped.
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let subscription = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "events-flood")), bufferLimit: 4)
            try await sync(connection)
            var records: [String] = []
            var lost = 0
            var dropped = 0
            for try await notification in subscription {
                let batch = try EventRecords(notification)
                records += batch.records.map(text)
                lost += batch.lost
                dropped += notification.droppedBefore
                if notification.seq == 40 { break }
            }
            #expect(records == (1...80).map { #"{"n":\#($0)}"# })
            // Only what the node reported: 1 lost before each of the 40.
            #expect(lost == 40)
            #expect(dropped == 0)
            await connection.close()
        }
    }

    @Test("past its byte limit a slow consumer of events is told every record it did not see")
    func eventsDropped() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            // Each notification's params are 66 bytes here: room for 4.
            let subscription = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "events-flood")),
                                                              bufferLimit: 4, byteLimit: 4 * 66)
            try await sync(connection)
            var records: [String] = []
            var lost = 0
            var seen: [SubscriptionNotification] = []
            for try await notification in subscription {
                let batch = try EventRecords(notification)
                records += batch.records.map(text)
                lost += batch.lost
                seen.append(notification)
                if notification.seq == 40 { break }
            }
            #expect(records == (73...80).map { #"{"n":\#($0)}"# })
            #expect(seen.map(\.droppedBefore) == [36, 0, 0, 0])
            // 36 notifications of 2 records dropped here, and 1 lost on the node before each of the 40.
            #expect(lost == 36 * 2 + 40)
            await connection.close()
        }
    }

    @Test("a subscribe the caller gave up on is cancelled when the node's answer comes")
    func abandonedSubscribe() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            // "slow" is answered after 300 ms; the caller waits 50.
            await #expect(throws: ClientError.timedOut(server.address, after: .milliseconds(50))) {
                _ = try await withTimeout(.milliseconds(50), waitingFor: server.address) {
                    try await connection.subscribe(MapWatch(map: .named(probe: "p", name: "slow"), intervalMs: 1000))
                }
            }
            let cancels = try await server.received.waitFor("subscription.cancel")
            #expect(cancels == [.init(method: "subscription.cancel", params: #"{"subscription":1}"#, isNotification: true)])
            await connection.close()
        }
    }
}

/// An events subscription whose consumer falls behind: the connection stops
/// reading instead of dropping, and lets go whenever something could
/// otherwise wait for good.
@Suite("events backpressure against a line server")
struct EventsBackpressureTests {
    /// Every record of a `stream-NxR` subscription, checked against 1, 2, 3, ...
    private struct Tally {
        var notifications = 0
        var records = 0
        var outOfOrder = 0
        var lost = 0
        var dropped = 0
        var end: String?

        mutating func add(_ notification: SubscriptionNotification) throws {
            if notification.isEnd {
                end = notification.endReason
                return
            }
            notifications += 1
            let batch = try EventRecords(notification)
            for record in batch.records {
                records += 1
                if text(record) != #"{"n":\#(records)}"# { outOfOrder += 1 }
            }
            lost += batch.lost
            dropped += notification.droppedBefore
        }
    }

    @Test("a consumer slower than the node gets every record, in order, and none is dropped")
    func slowConsumerLosesNothing() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let subscription = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "stream-2000x50")))
            var tally = Tally()
            for try await notification in subscription {
                try tally.add(notification)
                if tally.notifications % 4 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            }
            #expect(tally.end == "streamed")
            #expect(tally.notifications == 2000)
            #expect(tally.records == 2000 * 50)
            #expect(tally.outOfOrder == 0)
            #expect(tally.lost == 0)
            #expect(tally.dropped == 0)
            #expect(server.streamed.value == 2000)
            await connection.close()
        }
    }

    @Test("a consumer that takes nothing holds the node back; cancel() lets the connection read and is answered")
    func heldThenCancelled() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            // About 6.5 MB in all, far more than the sockets and one read hold.
            let subscription = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "stream-10000x50")), bufferLimit: 4)
            let written = try await server.streamed.settled()
            #expect(written < 10000)
            try await withTimeout(.seconds(10), waitingFor: server.address) { try await subscription.cancel() }
            let cancels = server.received.named("subscription.cancel")
            #expect(cancels == [.init(method: "subscription.cancel", params: #"{"subscription":1}"#, isNotification: false)])
            var after = 0
            for try await _ in subscription { after += 1 }
            #expect(after == 0)
            let echoed = try await withTimeout(.seconds(10), waitingFor: server.address) {
                try await connection.callRaw(method: "echo", params: ["still": "answered"])
            }
            #expect(text(echoed) == #"{"still":"answered"}"#)
            await connection.close()
        }
    }

    @Test("a consumer that lets go with its buffer full frees the connection's reader without any call")
    func letGoReleases() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            do {
                let subscription = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "stream-10000x50")), bufferLimit: 4)
                _ = try await server.streamed.settled()
                // As `--count` does: take a few, then stop.
                var taken = 0
                for try await _ in subscription {
                    taken += 1
                    if taken == 3 { break }
                }
            }
            let cancels = try await server.received.waitFor("subscription.cancel")
            #expect(cancels == [.init(method: "subscription.cancel", params: #"{"subscription":1}"#, isNotification: true)])
            // The line server streams on regardless; only a reading client
            // lets it finish.
            #expect(try await server.streamed.reaches(10000) == 10000)
            await connection.close()
        }
    }

    @Test("a call made while the consumer is behind is answered, and the consumer still gets every record")
    func callWhileBehind() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let subscription = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "stream-2000x50")), bufferLimit: 4)
            _ = try await server.streamed.settled()
            let echoed = try await withTimeout(.seconds(10), waitingFor: server.address) {
                try await connection.callRaw(method: "echo", params: ["behind": true])
            }
            #expect(text(echoed) == #"{"behind":true}"#)
            var tally = Tally()
            for try await notification in subscription { try tally.add(notification) }
            #expect(tally.end == "streamed")
            #expect(tally.records == 2000 * 50)
            #expect(tally.outOfOrder == 0)
            #expect(tally.dropped == 0)
            await connection.close()
        }
    }

    @Test("a consumer behind does not starve another subscription's waiting consumer on the same connection")
    func otherConsumerNotStarved() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let behind = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "stream-10000x50")), bufferLimit: 4)
            // Held back before the second subscription comes.
            #expect(try await server.streamed.settled() < 10000)
            // Its one notification comes a second after the answer, unasked.
            let late = try await connection.subscribe(EventsSubscribe(map: .named(probe: "p", name: "late")))
            let lateSeen = try await withTimeout(.seconds(10), waitingFor: server.address) { try await drain(late) }
            #expect(lateSeen.map(\.method) == ["subscription.events", "subscription.end"])
            var tally = Tally()
            for try await notification in behind { try tally.add(notification) }
            #expect(tally.end == "streamed")
            #expect(tally.records == 10000 * 50)
            #expect(tally.outOfOrder == 0)
            #expect(tally.dropped == 0)
            await connection.close()
        }
    }
}

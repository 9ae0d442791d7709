@testable import BpfleetServer
import Foundation
import Logging
import Testing

/// A probe unloaded while a subscription's reply is on its way: the
/// subscription must end as it starts, not start on a probe that is gone
/// (it would never hear `subscription.end`, and would hold the map).
@Suite("subscription hub")
struct SubscriptionHubTests {
    let logger = Logger(label: "test")

    @Test func aSubscriptionGrantedBeforeItsProbesUnloadEndsAsItStarts() async throws {
        let hub = SubscriptionHub(maxPerConnection: 4)
        let sink = RecordingSink()
        let connection = ConnectionHandle(sink: sink)
        let early = try hub.reserve(for: connection, probe: "gone")
        let other = try hub.reserve(for: connection, probe: "stays")
        await hub.endAll(probe: "gone", reason: "probe unloaded")
        let ran = LockedFlag()
        hub.start(early, failure: "map read failed", logger: logger) { ran.set() }
        #expect(hub.count == 0)
        // Its end is told; the wait only catches an end never sent.
        for _ in 0..<1200 where sink.text.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        #expect(sink.text == #"{"jsonrpc":"2.0","method":"subscription.end","params":{"reason":"probe unloaded","subscription":1}}"# + "\n")
        #expect(!ran.value)
        // The other probe's subscription starts as granted.
        hub.start(other, failure: "map read failed", logger: logger) { try await Task.sleep(for: .seconds(3600)) }
        #expect(hub.count == 1)
        // The ended one gave back its place: the connection has room for three more.
        for _ in 0..<3 { _ = try hub.reserve(for: connection, probe: "stays") }
        #expect(throws: (any Error).self) { try hub.reserve(for: connection, probe: "stays") }
        let running = try #require(hub.cancel(other, by: connection))
        await running.value
    }

    @Test func anEventMapReservedBeforeTheUnloadIsFreeAgain() async throws {
        let hub = SubscriptionHub(maxPerConnection: 4)
        let connection = ConnectionHandle(sink: RecordingSink())
        let id = try hub.reserve(for: connection, probe: "gone", eventMap: 7)
        await hub.endAll(probe: "gone", reason: "probe replaced")
        hub.start(id, failure: "event stream failed", logger: logger) {}
        #expect(hub.count == 0)
        #expect(throws: Never.self) { try hub.reserve(for: connection, probe: "next", eventMap: 7) }
    }

    @Test func aBodyThatFailsEndsItsSubscriptionSayingWhy() async throws {
        let hub = SubscriptionHub(maxPerConnection: 4)
        let sink = RecordingSink()
        let connection = ConnectionHandle(sink: sink)
        let id = try hub.reserve(for: connection, probe: "p")
        struct Unreadable: Error, CustomStringConvertible { var description: String { "EBADF" } }
        hub.start(id, failure: "map read failed", logger: logger) { throw Unreadable() }
        for _ in 0..<1200 where sink.text.isEmpty || hub.count > 0 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(sink.text == #"{"jsonrpc":"2.0","method":"subscription.end","params":{"reason":"map read failed: EBADF","subscription":1}}"# + "\n")
        #expect(hub.count == 0)
    }
}

@testable import BpfleetServer
import Foundation
import Testing

/// A probe unloaded while a subscription's reply is on its way: the
/// subscription must end as it starts, not start on a probe that is gone
/// (it would never hear `subscription.end`, and would hold the map).
@Suite("subscription hub")
struct SubscriptionHubTests {
    @Test func aSubscriptionGrantedBeforeItsProbesUnloadEndsAsItStarts() async throws {
        let hub = SubscriptionHub(maxPerConnection: 4)
        let connection = ConnectionHandle(sink: RecordingSink())
        let early = try hub.reserve(for: connection, probe: "gone")
        let other = try hub.reserve(for: connection, probe: "stays")
        await hub.endAll(probe: "gone", reason: "probe unloaded")
        let made = LockedFlag()
        let ended = hub.start(early, probe: "gone", connection: connection) {
            made.set()
            return Task {}
        }
        #expect(ended == "probe unloaded")
        #expect(!made.value)
        #expect(hub.count == 0)
        // The other probe's subscription starts as granted.
        #expect(hub.start(other, probe: "stays", connection: connection) { Task {} } == nil)
        #expect(hub.count == 1)
        // The ended one gave back its place: the connection has room for three more.
        for _ in 0..<3 { _ = try hub.reserve(for: connection, probe: "stays") }
        #expect(throws: (any Error).self) { try hub.reserve(for: connection, probe: "stays") }
    }

    @Test func anEventMapReservedBeforeTheUnloadIsFreeAgain() async throws {
        let hub = SubscriptionHub(maxPerConnection: 4)
        let connection = ConnectionHandle(sink: RecordingSink())
        let id = try hub.reserve(for: connection, probe: "gone", eventMap: 7)
        await hub.endAll(probe: "gone", reason: "probe replaced")
        #expect(hub.start(id, probe: "gone", connection: connection) { Task {} } == "probe replaced")
        #expect(throws: Never.self) { try hub.reserve(for: connection, probe: "next", eventMap: 7) }
    }
}

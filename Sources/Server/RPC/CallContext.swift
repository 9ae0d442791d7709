import BpfleetShared
import Foundation
import Logging
import NIOPosix

/// What a method handler may use: the node's state and facts.
struct CallContext: Sendable {
    let registry: ProbeRegistry
    let features: KernelFeatures
    let startedAt: Date
    /// node.info's answer but for the uptime.
    let nodeFacts: NodeFacts
    /// For blocking kernel reads done outside the registry (snapshots).
    let threadPool: NIOThreadPool
    let hub: SubscriptionHub
    /// Records an event subscription may hold for a slow subscriber.
    let maxQueuedEvents: Int
    let logger: Logger
    /// The connection the call came on; set per call by the dispatcher.
    var connection: ConnectionHandle?
    /// Who made the call; set per call by the dispatcher.
    var caller: Caller?
    /// Whether operators may read maps bpfleet does not own
    /// (`--foreign-maps`; docs/security.md).
    var foreignMaps = false
    /// bpfleetd's own metrics (docs/metrics.md); nil in unit tests.
    var metrics: ServerMetrics? = nil
}

extension CallContext {
    /// The node's metrics rendered now, in the Prometheus text format:
    /// what `GET /metrics` and `node.metrics` answer.
    /// With `probe`, only that probe's series.
    ///
    /// The map exports are read on the thread pool, outside the registry
    /// (which hands over their descriptors and is free again), at most two
    /// renderings at once.
    func renderMetrics(_ metrics: ServerMetrics, probe: String? = nil) async -> String {
        let probes = await registry.describeProbes()
        let sources = await registry.metricSources(probe: probe)
        var exports: [UInt8] = []
        if !sources.isEmpty {
            await metrics.exportGate.wait()
            let renderer = metrics.exports
            exports = (try? await threadPool.runIfActive { renderer.render(sources) }) ?? []
            metrics.exportGate.signal()
        }
        return metrics.render(.init(probes: probes, subscriptions: hub.openCount, exports: exports), probe: probe)
    }
}

/// The peer of one call, its role, and the audit log a call that reaches
/// past bpfleet's own objects writes to.
struct Caller: Sendable {
    var peer: PeerIdentity
    var role: Role
    var method: String
    var id: RequestID?
    var audit: AuditLog?
}

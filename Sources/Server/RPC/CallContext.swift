import BpfleetShared
import Foundation
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
}

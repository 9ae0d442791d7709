/// How a manifest goes out to its nodes: a canary batch first, then
/// batches of a fixed size, stopping (or rolling back) once more nodes
/// have failed than the policy tolerates.
public struct RolloutPolicy: Sendable, Hashable {
    /// How many nodes each batch after the canary holds.
    public enum BatchSize: Sendable, Hashable {
        /// This many nodes (at least 1).
        case count(Int)
        /// This percentage (1...100) of all the selected nodes, rounded
        /// up, at least one node.
        case percent(Int)
    }

    /// What to do when a rollout stops on failures.
    public enum FailureAction: String, Sendable, Hashable, CaseIterable {
        /// Leave every node as it is: the done ones new, the rest old.
        case stop
        /// Put every node already changed back as it was.
        case rollback
    }

    /// Nodes in the first batch, alone; 0 means no canary batch.
    public var canary: Int
    public var batch: BatchSize
    /// Failed nodes tolerated: the rollout stops when more have failed.
    public var maxFailures: Int
    /// Waited between two batches.
    public var pause: Duration
    public var onFailure: FailureAction
    /// Verify the object on every selected node before the canary, and
    /// refuse the whole rollout when any would fail (`rollout.preflight`).
    public var preflight = false

    public init(canary: Int = 1, batch: BatchSize = .percent(25), maxFailures: Int = 0,
                pause: Duration = .zero, onFailure: FailureAction = .stop) {
        self.canary = canary
        self.batch = batch
        self.maxFailures = maxFailures
        self.pause = pause
        self.onFailure = onFailure
    }

    /// The batches for `nodeCount` selected nodes, as ranges of positions in
    /// the selection, in order, covering `0..<nodeCount` exactly once: the
    /// canary batch (`min(canary, nodeCount)` nodes) unless it is empty,
    /// then batches of the batch size, the last one possibly smaller.
    /// A percentage is of all `nodeCount` nodes (canary included), so
    /// `25%` of 10 nodes is batches of 3. No nodes, no batches.
    public func batches(nodeCount: Int) -> [Range<Int>] {
        guard nodeCount > 0 else { return [] }
        var batches: [Range<Int>] = []
        let canaryEnd = min(max(canary, 0), nodeCount)
        if canaryEnd > 0 { batches.append(0..<canaryEnd) }
        let size = batchSize(nodeCount: nodeCount)
        var start = canaryEnd
        while start < nodeCount {
            let end = start + min(size, nodeCount - start)
            batches.append(start..<end)
            start = end
        }
        return batches
    }

    /// The nodes in one batch after the canary, for `nodeCount` selected
    /// nodes: at least 1.
    public func batchSize(nodeCount: Int) -> Int {
        switch batch {
        case .count(let count):
            return max(count, 1)
        case .percent(let percent):
            // Rounded up: 1% of 10 nodes is still one node a batch.
            let clamped = min(max(percent, 1), 100)
            return max((nodeCount * clamped + 99) / 100, 1)
        }
    }
}

extension RolloutPolicy.BatchSize: CustomStringConvertible {
    /// As a manifest writes it: `3` or `25%`.
    public var description: String {
        switch self {
        case .count(let count): "\(count)"
        case .percent(let percent): "\(percent)%"
        }
    }
}

import BpfleetShared

/// A declarative rollout of one probe to many nodes (docs/fleet.md): each
/// node is compared with the desired probe and brought to it (created,
/// replaced, repaired, or left unchanged), batch by batch — the canary
/// first — and when more nodes have failed than the policy tolerates, the
/// rollout stops, and with `onFailure: rollback` puts every node it changed
/// back as it was. Each step is reported as a `RolloutEvent`.
///
/// ```swift
/// let manifest = try ProbeManifest.load(path: "exec-count.yaml")
/// let rollout = Rollout(probe: DesiredProbe(manifest: manifest), policy: manifest.rollout,
///                       nodes: targets, fanOut: FanOut(concurrency: 64))
/// let summary = await rollout.run { event in print(event) }
/// ```
public struct Rollout: Sendable {
    public var probe: DesiredProbe
    public var policy: RolloutPolicy
    public var nodes: [NodeTarget]
    public var fanOut: FanOut

    public init(probe: DesiredProbe, policy: RolloutPolicy, nodes: [NodeTarget], fanOut: FanOut) {
        self.probe = probe
        self.policy = policy
        self.nodes = nodes
        self.fanOut = fanOut
    }

    /// The batches, as node positions.
    public var batches: [Range<Int>] { policy.batches(nodeCount: nodes.count) }

    /// Runs the rollout; `dryRun` reads every node and reports what would be
    /// done, changing nothing. `events` is called from this task, one event
    /// at a time, in order.
    public func run(dryRun: Bool = false, events: (RolloutEvent) async -> Void) async -> RolloutSummary {
        let batches = self.batches
        await events(.plan(RolloutEvent.Plan(probe: probe.name, spec: probe.spec, nodes: nodes.count,
                                             batches: batches.map { $0.map { nodes[$0].description } }, dryRun: dryRun)))
        var summary = RolloutSummary(nodes: nodes.count)
        // What a changed node held before, for a rollback; nodes not changed
        // (unchanged, unreachable) are not in it.
        var changed: [(index: Int, before: ProbeDescription?)] = []
        let wanted = probe

        for (number, batch) in batches.enumerated() {
            if number > 0, policy.pause > .zero, !dryRun {
                await events(.pause(RolloutEvent.Pause(afterBatch: number - 1, seconds: policy.pause / .seconds(1))))
                try? await Task.sleep(for: policy.pause)
            }
            var counts = RolloutEvent.BatchDone(batch: number, nodes: batch.count)
            let targets = Array(nodes[batch])
            await fanOut.run(targets, order: .completion, calling: { connection in
                try await Self.step(on: connection, wanted, dryRun: dryRun)
            }) { outcome in
                let index = batch.lowerBound + outcome.index
                let node = nodes[index]
                var event = RolloutEvent.NodeStep(batch: number, node: node.description, address: node.address.description)
                switch outcome.result {
                case .success(let step):
                    event.action = step.action
                    event.drift = step.drift.word
                    event.detail = step.drift.detail
                    if step.action != .unchanged, !dryRun { changed.append((index, step.before)) }
                    summary.count(step.action)
                    counts.ok += 1
                case .failure(let error):
                    let failure = NodeFailure(error)
                    event.error = failure
                    // Whatever the node got before the failure is rolled back too.
                    if !failure.unreachable, !dryRun, let before = (error as? StepFailure)?.before {
                        changed.append((index, before.probe))
                    }
                    if failure.unreachable { summary.unreachable += 1; counts.unreachable += 1 } else { summary.failed += 1; counts.failed += 1 }
                }
                await events(.node(event))
            }
            summary.batchesDone = number + 1
            await events(.batch(counts))

            let failures = summary.failed + summary.unreachable
            if failures > policy.maxFailures, !dryRun {
                summary.notStarted = nodes.count - batch.upperBound
                await events(.stopped(RolloutEvent.Stop(
                    reason: "\(failures) node\(failures == 1 ? "" : "s") failed, more than maxFailures \(policy.maxFailures)",
                    afterBatch: number, notStarted: summary.notStarted)))
                summary.result = .stopped
                if policy.onFailure == .rollback {
                    await rollBack(changed, summary: &summary, events: events)
                }
                break
            }
        }
        await events(.done(summary))
        return summary
    }

    /// Puts every changed node back, most recent first, all at once within
    /// the fan-out's bound.
    private func rollBack(_ changed: [(index: Int, before: ProbeDescription?)], summary: inout RolloutSummary,
                          events: (RolloutEvent) async -> Void) async {
        summary.result = .rolledBack
        let name = probe.name
        let keepMaps = probe.keepMaps
        let targets = changed.map { RollbackNode(target: nodes[$0.index], before: $0.before) }
        let fanOut = self.fanOut
        await fanOut.run(targets, order: .completion, { node in
            try await fanOut.call(node.target) { connection in
                try await NodeConvergence(connection: connection).restore(node.before, name: name, keepMaps: keepMaps)
            }
        }) { outcome in
            let node = targets[outcome.index].target
            var event = RolloutEvent.RollbackStep(node: node.description, address: node.address.description)
            switch outcome.result {
            case .success(let action):
                event.action = action
                summary.rolledBack += 1
            case .failure(let error):
                event.error = NodeFailure(error)
                summary.rollbackFailed += 1
                summary.result = .rollbackIncomplete
            }
            await events(.rollback(event))
        }
    }

    /// A node to roll back and what it held before.
    struct RollbackNode: NodeAddressing {
        var target: NodeTarget
        var before: ProbeDescription?
        var address: NodeAddress { target.address }
    }

    /// One node: read, compare, converge.
    struct Step: Sendable {
        var drift: ProbeDrift
        var action: NodeAction
        var before: ProbeDescription?
    }

    /// A failure after the node was read: what it held then, for a rollback.
    struct StepFailure: Error {
        var error: any Error
        var before: Before
        struct Before { var probe: ProbeDescription? }
    }

    static func step(on connection: NodeConnection, _ wanted: DesiredProbe, dryRun: Bool) async throws -> Step {
        let node = NodeConvergence(connection: connection)
        let current = try await node.probe(named: wanted.name)
        let drift = ProbeDrift.of(current, against: wanted)
        if dryRun {
            return Step(drift: drift, action: Self.plannedAction(drift), before: current)
        }
        do {
            return Step(drift: drift, action: try await node.converge(current, to: wanted), before: current)
        } catch {
            throw StepFailure(error: error, before: .init(probe: current))
        }
    }

    static func plannedAction(_ drift: ProbeDrift) -> NodeAction {
        switch drift {
        case .inSync: .unchanged
        case .missing: .created
        case .links: .repaired
        case .otherSpec, .unhealthy: .replaced
        }
    }
}

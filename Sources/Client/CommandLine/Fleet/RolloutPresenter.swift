import BpfleetShared
import Foundation

/// Shows a rollout as it goes. For people (`-o table`): a line per batch on
/// stderr as it finishes (and per rolled-back node), then a table of every
/// node and a summary line on stdout. For scripts: `-o ndjson` prints each
/// event as one JSON line the moment it happens; `-o json` (and `-o yaml`)
/// prints one object at the end, `{"summary": ..., "nodes": [...],
/// "rollback": [...]}`.
///
/// Several probes (`apply -f` of a directory or of several documents) are
/// rolled out one after the other and shown as one: the table gains a
/// PROBE column and ends with one summary line over them all, and the
/// JSON document is `{"summary": ..., "probes": [{"probe": ..., "summary":
/// ..., "nodes": [...], "rollback": [...]}, ...], "notStarted": [...]}`.
final class RolloutPresenter {
    let format: OutputFormat
    private(set) var nodes: [NodeTarget]
    private(set) var policy: RolloutPolicy
    private let output: StandardStream
    private let errors = StandardStream.error()
    private lazy var json = JSONLines(output)
    private var steps: [RolloutEvent.NodeStep] = []
    private var rollbacks: [RolloutEvent.RollbackStep] = []
    private var plan: RolloutEvent.Plan?
    /// The probes rolled out before the current one, when there are several.
    private var finished: [Finished] = []

    struct Finished {
        var probe: String
        var nodes: [NodeTarget]
        var policy: RolloutPolicy
        var steps: [RolloutEvent.NodeStep]
        var rollbacks: [RolloutEvent.RollbackStep]
        var dryRun: Bool
        var summary: RolloutSummary
    }

    init(format: OutputFormat, nodes: [NodeTarget], policy: RolloutPolicy) {
        self.format = format
        self.nodes = nodes
        self.policy = policy
        self.output = StandardStream.output(format.transcoding)
    }

    func show(_ event: RolloutEvent) {
        switch format {
        case .ndjson:
            json.write(event)
            return
        case .json, .yaml, .table, .wide:
            break
        }
        switch event {
        case .plan(let plan):
            self.plan = plan
            if format.isForPeople {
                let what = plan.dryRun ? "plan for" : "applying"
                errors.write("bpfleet: \(what) probe \(plan.probe) (spec \(plan.spec.map(ProbeDrift.short) ?? "-")) on \(plan.nodes) node\(plan.nodes == 1 ? "" : "s") in \(plan.batches.count) batch\(plan.batches.count == 1 ? "" : "es") (\(Self.describe(policy)))\n")
                errors.flush()
            }
        case .node(let step):
            steps.append(step)
        case .batch(let batch):
            guard format.isForPeople else { return }
            let total = plan?.batches.count ?? 0
            let kind = batch.batch == 0 && policy.canary > 0 ? "canary" : "batch \(batch.batch + 1)/\(total)"
            var parts = ["\(batch.ok) ok"]
            if batch.failed > 0 { parts.append("\(batch.failed) failed") }
            if batch.unreachable > 0 { parts.append("\(batch.unreachable) unreachable") }
            errors.write("bpfleet: \(kind) (\(batch.nodes) node\(batch.nodes == 1 ? "" : "s")): \(parts.joined(separator: ", "))\n")
            errors.flush()
        case .pause:
            guard format.isForPeople else { return }
            errors.write("bpfleet: pausing \(ClientError.format(policy.pause))\n")
            errors.flush()
        case .stopped(let stop):
            guard format.isForPeople else { return }
            let rest = stop.notStarted > 0 ? "; \(stop.notStarted) node\(stop.notStarted == 1 ? "" : "s") not started" : ""
            let next = policy.onFailure == .rollback ? "; rolling back" : ""
            errors.write("bpfleet: stopped: \(stop.reason)\(rest)\(next)\n")
            errors.flush()
        case .rollback(let step):
            rollbacks.append(step)
            guard format.isForPeople else { return }
            if let error = step.error {
                errors.write("bpfleet: \(step.node): rollback failed: \(error.message)\n")
            } else {
                errors.write("bpfleet: \(step.node): rolled back (\(step.action?.rawValue ?? "-"))\n")
            }
            errors.flush()
        case .done:
            break
        }
    }

    /// `canary 1, batch 25%, maxFailures 0, pause 5s, onFailure rollback`
    static func describe(_ policy: RolloutPolicy) -> String {
        "canary \(policy.canary), batch \(policy.batch), maxFailures \(policy.maxFailures), "
            + "pause \(policy.pause == .zero ? "0s" : ClientError.format(policy.pause)), onFailure \(policy.onFailure.rawValue)"
    }

    func finish(_ summary: RolloutSummary) {
        switch format {
        case .ndjson:
            return
        case .json, .yaml:
            json.write(Self.document(current(summary)))
        case .table, .wide:
            let done = current(summary)
            TablePrinter(stream: output, showsNode: false).columns(["NODE", "BATCH", "WAS", done.dryRun ? "PLAN" : "ACTION", "DETAIL"], Self.rows(done))
            output.write("\(Self.verb(summary, dryRun: done.dryRun)): \(Self.counts(summary)) (of \(summary.nodes))\n")
            output.flush()
        }
    }

    /// Several probes: the current one is done; the next comes with
    /// `next(nodes:policy:)` or the end with `finishAll`.
    func finishProbe(_ summary: RolloutSummary) {
        finished.append(current(summary))
        steps = []
        rollbacks = []
        plan = nil
    }

    func next(nodes: [NodeTarget], policy: RolloutPolicy) {
        self.nodes = nodes
        self.policy = policy
    }

    /// The end of several probes: one table, one summary. `notStarted`:
    /// the probes not rolled out because an earlier one stopped.
    func finishAll(notStarted: [String]) {
        var total = RolloutSummary(nodes: 0)
        for done in finished { total.add(done.summary) }
        let dryRun = finished.contains { $0.dryRun }
        switch format {
        case .ndjson:
            break
        case .json, .yaml:
            struct Probe: Encodable {
                var probe: String
                var document: Document
                func encode(to encoder: any Encoder) throws {
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    try container.encode(probe, forKey: .probe)
                    try container.encode(document.summary, forKey: .summary)
                    try container.encode(document.nodes, forKey: .nodes)
                    try container.encode(document.rollback, forKey: .rollback)
                }
                enum CodingKeys: String, CodingKey { case probe, summary, nodes, rollback }
            }
            struct All: Encodable {
                var summary: RolloutSummary
                var probes: [Probe]
                var notStarted: [String]
            }
            json.write(All(summary: total, probes: finished.map { Probe(probe: $0.probe, document: Self.document($0)) }, notStarted: notStarted))
        case .table, .wide:
            let rows = finished.flatMap { done in Self.rows(done).map { [done.probe] + $0 } }
            TablePrinter(stream: output, showsNode: false).columns(["PROBE", "NODE", "BATCH", "WAS", dryRun ? "PLAN" : "ACTION", "DETAIL"], rows)
            var verbs: [String] = []
            for done in finished where done.summary.result != .complete {
                verbs.append("\(done.probe) \(Self.verb(done.summary, dryRun: done.dryRun))")
            }
            let verb = verbs.isEmpty ? (dryRun ? "dry run" : "complete") : verbs.joined(separator: "; ")
            let skipped = notStarted.isEmpty ? "" : "; not started: \(notStarted.joined(separator: ", "))"
            output.write("\(verb): \(finished.count) probe\(finished.count == 1 ? "" : "s")\(skipped): \(Self.counts(total)) (of \(total.nodes) node rollouts)\n")
            output.flush()
        }
    }

    private func current(_ summary: RolloutSummary) -> Finished {
        Finished(probe: plan?.probe ?? "", nodes: nodes, policy: policy, steps: steps, rollbacks: rollbacks,
                 dryRun: plan?.dryRun == true, summary: summary)
    }

    struct Document: Encodable {
        var summary: RolloutSummary
        var nodes: [RolloutEvent.NodeStep]
        var rollback: [RolloutEvent.RollbackStep]
    }

    private static func document(_ done: Finished) -> Document {
        let order = Dictionary(done.nodes.enumerated().map { ($0.element.description, $0.offset) }, uniquingKeysWith: { first, _ in first })
        return Document(summary: done.summary, nodes: done.steps.sorted { order[$0.node, default: 0] < order[$1.node, default: 0] },
                        rollback: done.rollbacks)
    }

    /// A row per node: NODE, BATCH, WAS, ACTION, DETAIL.
    private static func rows(_ done: Finished) -> [[String]] {
        let order = Dictionary(done.nodes.enumerated().map { ($0.element.description, $0.offset) }, uniquingKeysWith: { first, _ in first })
        // A node put back says so: what was done to it did not stay.
        let putBack = Dictionary(done.rollbacks.map { ($0.node, $0) }, uniquingKeysWith: { _, last in last })
        return done.steps.sorted { order[$0.node, default: 0] < order[$1.node, default: 0] }.map { step -> [String] in
            var action = step.action.map { done.dryRun ? "would be \($0.rawValue)" : $0.rawValue } ?? (step.error?.unreachable == true ? "unreachable" : "failed")
            if let rollback = putBack[step.node] {
                action += rollback.error == nil ? ", rolled back" : ", rollback failed"
            }
            let detail = step.error.map { $0.message } ?? step.detail ?? ""
            return [step.node, "\(step.batch == 0 && done.policy.canary > 0 ? "canary" : String(step.batch + 1))", step.drift ?? "-", action, detail]
        }
    }

    /// `3 created, 0 replaced, 0 unchanged, 0 failed, 0 unreachable`
    private static func counts(_ summary: RolloutSummary) -> String {
        var counts = ["\(summary.created) created", "\(summary.replaced) replaced"]
        if summary.repaired > 0 { counts.append("\(summary.repaired) repaired") }
        counts += ["\(summary.unchanged) unchanged", "\(summary.failed) failed", "\(summary.unreachable) unreachable"]
        if summary.notStarted > 0 { counts.append("\(summary.notStarted) not started") }
        return counts.joined(separator: ", ")
    }

    private static func verb(_ summary: RolloutSummary, dryRun: Bool) -> String {
        switch summary.result {
        case .complete: dryRun ? "dry run" : "complete"
        case .stopped: "stopped"
        case .rolledBack: "rolled back (\(summary.rolledBack) node\(summary.rolledBack == 1 ? "" : "s"))"
        case .rollbackIncomplete: "rollback incomplete (\(summary.rollbackFailed) node\(summary.rollbackFailed == 1 ? "" : "s") not put back)"
        }
    }
}

extension RolloutSummary {
    /// Adds another probe's rollout: counts summed, the worst result kept.
    mutating func add(_ other: RolloutSummary) {
        nodes += other.nodes
        created += other.created
        replaced += other.replaced
        repaired += other.repaired
        unchanged += other.unchanged
        failed += other.failed
        unreachable += other.unreachable
        notStarted += other.notStarted
        batchesDone += other.batchesDone
        rolledBack += other.rolledBack
        rollbackFailed += other.rollbackFailed
        let rank: [Result: Int] = [.complete: 0, .stopped: 1, .rolledBack: 2, .rollbackIncomplete: 3]
        if rank[other.result, default: 0] > rank[result, default: 0] { result = other.result }
    }
}

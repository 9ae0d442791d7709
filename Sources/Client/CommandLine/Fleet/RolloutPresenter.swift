import BpfleetShared
import Foundation

/// Shows a rollout as it goes. For people (`-o table`): a line per batch on
/// stderr as it finishes (and per rolled-back node), then a table of every
/// node and a summary line on stdout. For scripts: `-o ndjson` prints each
/// event as one JSON line the moment it happens; `-o json` prints one
/// object at the end, `{"summary": ..., "nodes": [...], "rollback": [...]}`.
final class RolloutPresenter {
    let format: OutputFormat
    let nodes: [NodeTarget]
    let policy: RolloutPolicy
    private let output = StandardStream.output()
    private let errors = StandardStream.error()
    private lazy var json = JSONLines(output)
    private var steps: [RolloutEvent.NodeStep] = []
    private var rollbacks: [RolloutEvent.RollbackStep] = []
    private var plan: RolloutEvent.Plan?

    init(format: OutputFormat, nodes: [NodeTarget], policy: RolloutPolicy) {
        self.format = format
        self.nodes = nodes
        self.policy = policy
    }

    func show(_ event: RolloutEvent) {
        switch format {
        case .ndjson:
            json.write(event)
            return
        case .json, .table:
            break
        }
        switch event {
        case .plan(let plan):
            self.plan = plan
            if format == .table {
                let what = plan.dryRun ? "plan for" : "applying"
                errors.write("bpfleet: \(what) probe \(plan.probe) (spec \(plan.spec.map(ProbeDrift.short) ?? "-")) on \(plan.nodes) node\(plan.nodes == 1 ? "" : "s") in \(plan.batches.count) batch\(plan.batches.count == 1 ? "" : "es") (\(Self.describe(policy)))\n")
                errors.flush()
            }
        case .node(let step):
            steps.append(step)
        case .batch(let batch):
            guard format == .table else { return }
            let total = plan?.batches.count ?? 0
            let kind = batch.batch == 0 && policy.canary > 0 ? "canary" : "batch \(batch.batch + 1)/\(total)"
            var parts = ["\(batch.ok) ok"]
            if batch.failed > 0 { parts.append("\(batch.failed) failed") }
            if batch.unreachable > 0 { parts.append("\(batch.unreachable) unreachable") }
            errors.write("bpfleet: \(kind) (\(batch.nodes) node\(batch.nodes == 1 ? "" : "s")): \(parts.joined(separator: ", "))\n")
            errors.flush()
        case .pause:
            guard format == .table else { return }
            errors.write("bpfleet: pausing \(ClientError.format(policy.pause))\n")
            errors.flush()
        case .stopped(let stop):
            guard format == .table else { return }
            let rest = stop.notStarted > 0 ? "; \(stop.notStarted) node\(stop.notStarted == 1 ? "" : "s") not started" : ""
            let next = policy.onFailure == .rollback ? "; rolling back" : ""
            errors.write("bpfleet: stopped: \(stop.reason)\(rest)\(next)\n")
            errors.flush()
        case .rollback(let step):
            rollbacks.append(step)
            guard format == .table else { return }
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
        case .json:
            struct Document: Encodable {
                var summary: RolloutSummary
                var nodes: [RolloutEvent.NodeStep]
                var rollback: [RolloutEvent.RollbackStep]
            }
            let order = Dictionary(nodes.enumerated().map { ($0.element.description, $0.offset) }, uniquingKeysWith: { first, _ in first })
            let document = Document(summary: summary, nodes: steps.sorted { order[$0.node, default: 0] < order[$1.node, default: 0] },
                                    rollback: rollbacks)
            json.write(document)
        case .table:
            let order = Dictionary(nodes.enumerated().map { ($0.element.description, $0.offset) }, uniquingKeysWith: { first, _ in first })
            let dry = plan?.dryRun == true
            let rows = steps.sorted { order[$0.node, default: 0] < order[$1.node, default: 0] }.map { step -> [String] in
                let action = step.action.map { dry ? "would be \($0.rawValue)" : $0.rawValue } ?? (step.error?.unreachable == true ? "unreachable" : "failed")
                let detail = step.error.map { $0.message } ?? step.detail ?? ""
                return [step.node, "\(step.batch == 0 && policy.canary > 0 ? "canary" : String(step.batch + 1))", step.drift ?? "-", action, detail]
            }
            TablePrinter(stream: output, showsNode: false).columns(["NODE", "BATCH", "WAS", dry ? "PLAN" : "ACTION", "DETAIL"], rows)
            var counts = ["\(summary.created) created", "\(summary.replaced) replaced"]
            if summary.repaired > 0 { counts.append("\(summary.repaired) repaired") }
            counts += ["\(summary.unchanged) unchanged", "\(summary.failed) failed", "\(summary.unreachable) unreachable"]
            if summary.notStarted > 0 { counts.append("\(summary.notStarted) not started") }
            let verb: String
            switch summary.result {
            case .complete: verb = dry ? "dry run" : "complete"
            case .stopped: verb = "stopped"
            case .rolledBack: verb = "rolled back (\(summary.rolledBack) node\(summary.rolledBack == 1 ? "" : "s"))"
            case .rollbackIncomplete: verb = "rollback incomplete (\(summary.rollbackFailed) node\(summary.rollbackFailed == 1 ? "" : "s") not put back)"
            }
            output.write("\(verb): \(counts.joined(separator: ", ")) (of \(summary.nodes))\n")
            output.flush()
        }
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet delete -f MANIFEST [--dry-run]`
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Unload a manifest's probe from every node (a node without it counts as done).",
        discussion: """
            -f takes a file, a directory or - as apply does; several probes are deleted in the order \
            given. --dry-run reads every node and says what would be unloaded, changing nothing. \
            Exit status: 0 when no node holds the probe any more (or, dry, every node answered), 1 when \
            every node failed, 2 when some did.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp(
        "The probe manifests: a YAML file, a directory of them, or - for standard input.", valueName: "manifest"))
    var file: String

    @Flag(help: "Read every node and show what would be unloaded; change nothing.")
    var dryRun = false

    func run() async throws {
        let prepared = FleetManifestCommand.prepareAll(file: file, options: options)
        let several = prepared.count > 1
        let rows = FleetRows(format: options.output, headers: (several ? ["PROBE"] : []) + ["NODE", dryRun ? "PLAN" : "ACTION", "DETAIL"])
        var done = 0
        var total = 0
        var summaries: [String] = []
        let dryRun = self.dryRun
        for (manifest, plan) in prepared {
            let name = manifest.probe
            var counts: [String: Int] = [:]
            await plan.fanOut.run(plan.targets, order: options.output == .ndjson ? .completion : .given, calling: { connection in
                let node = NodeConvergence(connection: connection)
                guard dryRun else { return try await node.remove(name) }
                return try await node.probe(named: name) == nil ? NodeAction.absent : NodeAction.unloaded
            }) { outcome in
                let node = plan.targets[outcome.index]
                var record = FleetRecord(node: node.description, address: node.address.description)
                if several { record.probe = name }
                switch outcome.result {
                case .success(let action):
                    record.action = dryRun && action == .unloaded ? "would be unloaded" : action.rawValue
                    done += 1
                case .failure(let error):
                    let failure = NodeFailure(error)
                    record.action = failure.unreachable ? "unreachable" : "failed"
                    record.error = failure
                    record.detail = failure.message
                }
                let action = record.action ?? "failed"
                counts[action, default: 0] += 1
                rows.add(record, cells: (several ? [name] : []) + [record.node, action, record.detail ?? ""])
            }
            total += plan.targets.count
            let words = [dryRun ? "would be unloaded" : "unloaded", "absent", "failed", "unreachable"]
            let parts = words.map { "\(counts[$0, default: 0]) \($0)" }
            summaries.append("\(dryRun ? "dry run: delete" : "deleted") \(name): \(parts.joined(separator: ", ")) (of \(plan.targets.count))")
        }
        rows.finish(summary: summaries.joined(separator: "\n"))
        if let status = FleetExit.status(ok: done, of: total) { throw status }
    }
}

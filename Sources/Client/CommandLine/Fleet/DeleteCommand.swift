import ArgumentParser
import BpfleetShared

/// `bpfleet delete -f MANIFEST`
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Unload a manifest's probe from every node (a node without it counts as done).",
        discussion: "Exit status: 0 when no node holds the probe any more, 1 when every node failed, 2 when some did.")

    @OptionGroup var options: GlobalOptions

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("The probe manifest (YAML).", valueName: "manifest"))
    var file: String

    func run() async throws {
        let (manifest, plan) = try FleetManifestCommand.prepare(file: file, options: options)
        let name = manifest.probe
        let rows = FleetRows(format: options.output, headers: ["NODE", "ACTION", "DETAIL"])
        var done = 0
        var counts: [String: Int] = [:]
        await plan.fanOut.run(plan.targets, order: options.output == .ndjson ? .completion : .given, calling: { connection in
                try await NodeConvergence(connection: connection).remove(name)
        }) { outcome in
            let node = plan.targets[outcome.index]
            var record = FleetRecord(node: node.description, address: node.address.description)
            switch outcome.result {
            case .success(let action):
                record.action = action.rawValue
                done += 1
            case .failure(let error):
                let failure = NodeFailure(error)
                record.action = failure.unreachable ? "unreachable" : "failed"
                record.error = failure
                record.detail = failure.message
            }
            let action = record.action ?? "failed"
            counts[action, default: 0] += 1
            rows.add(record, cells: [record.node, action, record.detail ?? ""])
        }
        let parts = ["unloaded", "absent", "failed", "unreachable"].map { "\(counts[$0, default: 0]) \($0)" }
        rows.finish(summary: "deleted \(name): \(parts.joined(separator: ", ")) (of \(plan.targets.count))")
        if let status = FleetExit.status(ok: done, of: plan.targets.count) { throw status }
    }
}

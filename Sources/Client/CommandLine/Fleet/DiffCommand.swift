import ArgumentParser
import BpfleetShared

/// `bpfleet diff -f MANIFEST`: what `apply` would change, field by field,
/// on each node; nothing when nothing would change (as `kubectl diff`).
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show, field by field, what apply would change on each node.",
        discussion: """
            A line per field that differs: NODE: PROBE: FIELD: what the node has -> what the manifest \
            wants (compact JSON; null where there is none). -f takes a file, a directory or - as apply \
            does. Exit status (as kubectl diff): 0 when nothing would change, 1 when something would, \
            2 when a node could not be read.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp(
        "The probe manifests: a YAML file, a directory of them, or - for standard input.", valueName: "manifest"))
    var file: String

    struct NodeDiff: Encodable {
        var node: String
        var address: String
        var probe: String
        var ok: Bool
        var changes: [ProbeFieldDiff]?
        var error: NodeFailure?
    }

    func run() async throws {
        let prepared = FleetManifestCommand.prepareAll(file: file, options: options)
        let output = StandardStream.output(options.output.transcoding)
        let errors = StandardStream.error()
        let json = JSONLines(output)
        var all: [NodeDiff] = []
        var changed = false
        var failed = false
        for (manifest, plan) in prepared {
            let wanted = DesiredProbe(manifest: manifest)
            await plan.fanOut.run(plan.targets, order: options.output == .ndjson ? .completion : .given, calling: { connection in
                ProbeFieldDiff.changes(try await NodeConvergence(connection: connection).probe(named: wanted.name), wanted: wanted)
            }) { outcome in
                let node = plan.targets[outcome.index]
                var diff = NodeDiff(node: node.description, address: node.address.description, probe: manifest.probe, ok: true)
                switch outcome.result {
                case .success(let changes):
                    diff.changes = changes
                    changed = changed || !changes.isEmpty
                case .failure(let error):
                    diff.ok = false
                    diff.error = NodeFailure(error)
                    failed = true
                }
                switch options.output {
                case .ndjson:
                    json.write(diff)
                case .json, .yaml:
                    all.append(diff)
                case .table, .wide:
                    if let error = diff.error {
                        errors.write("bpfleet: \(diff.node): \(error.message)\n")
                        errors.flush()
                    }
                    for change in diff.changes ?? [] {
                        output.write("\(diff.node): \(diff.probe): \(change.field): \(change.node ?? "null") -> \(change.manifest ?? "null")\n")
                    }
                }
            }
        }
        if options.output.isDocument { json.write(all) }
        output.flush()
        if failed { throw ExitCode(2) }
        if changed { throw ExitCode(1) }
    }
}

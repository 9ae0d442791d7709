import ArgumentParser
import BpfleetShared

/// `bpfleet apply -f MANIFEST [--dry-run]`
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Roll a probe manifest out to its nodes: canary, batches, stop or roll back on failures.",
        discussion: """
            Each node is brought to the manifest's probe: created where it is missing, replaced where \
            another spec runs (links move without a gap where the kernel can), left alone where the spec \
            already runs. Exit status: 0 when every node holds the spec, 1 when none does (a rollout \
            stopped and rolled back, or every node failed), 2 when some do. docs/fleet.md.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("The probe manifest (YAML).", valueName: "manifest"))
    var file: String

    @Flag(help: "Read every node and show what would be done; change nothing.")
    var dryRun = false

    @Flag(help: "Verify the object on every selected node first (probe.verify) and refuse the rollout when any would fail (as rollout.preflight: true).")
    var preflight = false

    func run() async throws {
        let (manifest, plan) = try FleetManifestCommand.prepare(file: file, options: options)
        if preflight || manifest.rollout.preflight,
           !(await ApplyPreflight.passes(manifest, plan: plan, format: options.output, verifierLog: options.verifierLog, dryRun: dryRun)) {
            throw ExitCode(1)
        }
        let rollout = Rollout(probe: DesiredProbe(manifest: manifest), policy: manifest.rollout, nodes: plan.targets, fanOut: plan.fanOut)
        let presenter = RolloutPresenter(format: options.output, nodes: plan.targets, policy: manifest.rollout)
        let summary = await rollout.run(dryRun: dryRun) { event in presenter.show(event) }
        presenter.finish(summary)
        let holding = dryRun ? summary.succeeded : summary.holdingSpec
        if let status = FleetExit.status(ok: holding, of: summary.nodes) { throw status }
    }
}

/// What `apply`, `status` and `delete` share: read the manifest (a mistake
/// is a usage error naming its line, before any node is asked), then the
/// nodes: the command line's `-n`/`--selector` when given, else the
/// manifest's `nodes`, else the usual defaults.
enum FleetManifestCommand {
    static func prepare(file: String, options: GlobalOptions) throws -> (ProbeManifest, GlobalOptions.Plan) {
        let manifest: ProbeManifest
        do {
            manifest = try ProbeManifest.load(path: file)
        } catch {
            usage("\(error)")
        }
        // The manifest's selector is checked even when -n or --selector
        // overrides it: a manifest with a mistake is refused whole.
        if let nodes = manifest.nodes, let selector = nodes.selector {
            do {
                _ = try LabelSelector(parsing: selector)
            } catch {
                usage("\(file):\(nodes.line): nodes.selector: column \(error.column) of '\(selector)': \(error.message)")
            }
        }
        do {
            let selection = manifest.nodes.map {
                NodeSelection(selector: $0.selector, names: $0.names ?? [], origin: "manifest \(file) line \($0.line)")
            }
            return (manifest, try options.plan(selection: selection))
        } catch {
            usage("\(error)")
        }
    }

    static func usage(_ message: String) -> Never {
        let errors = StandardStream.error()
        errors.write("bpfleet: \(message)\n")
        errors.flush()
        BpfleetCommand.exit(withError: ExitCode.validationFailure)
    }
}

/// Exit statuses of fleet commands: 0 every node is as asked, 1 none is,
/// 2 some are (docs/cli.md).
enum FleetExit {
    static func status(ok: Int, of total: Int) -> ExitCode? {
        if ok == total { return nil }
        return ok == 0 ? ExitCode(1) : ExitCode(2)
    }
}

extension RolloutSummary {
    /// Nodes that hold the spec after the rollout: a rollback takes it away
    /// from the nodes it put back.
    var holdingSpec: Int {
        result == .rolledBack || result == .rollbackIncomplete ? unchanged : succeeded
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet apply -f MANIFEST [--dry-run]`
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Roll probe manifests out to their nodes: canary, batches, stop or roll back on failures.",
        discussion: """
            Each node is brought to the manifest's probe: created where it is missing, replaced where \
            another spec runs (links move without a gap where the kernel can), left alone where the spec \
            already runs. -f takes a file (a probe per YAML document), a directory (its *.yaml and *.yml \
            files in name order) or - (standard input); several probes are rolled out one after the \
            other, and one that stops leaves the rest not started. Exit status: 0 when every node holds \
            the spec, 1 when none does (a rollout stopped and rolled back, or every node failed), 2 when \
            some do. docs/fleet.md.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp(
        "The probe manifests: a YAML file, a directory of them, or - for standard input.", valueName: "manifest"))
    var file: String

    @Flag(help: "Read every node and show what would be done; change nothing.")
    var dryRun = false

    @Flag(help: "Verify the object on every selected node first (probe.verify) and refuse the rollout when any would fail (as rollout.preflight: true).")
    var preflight = false

    func run() async throws {
        let prepared = FleetManifestCommand.prepareAll(file: file, options: options)
        guard prepared.count > 1, let first = prepared.first else {
            // One probe: its own table and summary, as always.
            for (manifest, plan) in prepared {
                let presenter = RolloutPresenter(format: options.output, nodes: plan.targets, policy: manifest.rollout)
                guard let summary = await rollOut(manifest, plan: plan, presenter: presenter) else { throw ExitCode(1) }
                presenter.finish(summary)
                let holding = dryRun ? summary.succeeded : summary.holdingSpec
                if let status = FleetExit.status(ok: holding, of: summary.nodes) { throw status }
            }
            return
        }
        let presenter = RolloutPresenter(format: options.output, nodes: first.1.targets, policy: first.0.rollout)
        var holding = 0
        var total = 0
        var notStarted: [String] = []
        for (index, (manifest, plan)) in prepared.enumerated() {
            total += plan.targets.count
            presenter.next(nodes: plan.targets, policy: manifest.rollout)
            guard let summary = await rollOut(manifest, plan: plan, presenter: presenter) else {
                // Refused by its preflight: nothing of it or after it.
                notStarted = prepared[index...].map(\.0.probe)
                break
            }
            presenter.finishProbe(summary)
            holding += dryRun ? summary.succeeded : summary.holdingSpec
            if summary.result != .complete {
                notStarted = prepared[(index + 1)...].map(\.0.probe)
                break
            }
        }
        presenter.finishAll(notStarted: notStarted)
        if !notStarted.isEmpty, options.output.isForPeople {
            let errors = StandardStream.error()
            errors.write("bpfleet: not started: \(notStarted.joined(separator: ", ")) (an earlier probe's rollout did not complete)\n")
            errors.flush()
        }
        if let status = FleetExit.status(ok: holding, of: total) { throw status }
    }

    /// One probe's rollout; nil when its preflight refused it.
    private func rollOut(_ manifest: ProbeManifest, plan: GlobalOptions.Plan, presenter: RolloutPresenter) async -> RolloutSummary? {
        if preflight || manifest.rollout.preflight,
           !(await ApplyPreflight.passes(manifest, plan: plan, format: options.output, verifierLog: options.verifierLog, dryRun: dryRun)) {
            return nil
        }
        let rollout = Rollout(probe: DesiredProbe(manifest: manifest), policy: manifest.rollout, nodes: plan.targets, fanOut: plan.fanOut)
        return await rollout.run(dryRun: dryRun) { event in presenter.show(event) }
    }
}

/// What `apply`, `status`, `delete` and `diff` share: read the manifests (a
/// mistake is a usage error naming its line, before any node is asked),
/// then each one's nodes: the command line's `-n`/`--selector` when given,
/// else the manifest's `nodes`, else the usual defaults.
enum FleetManifestCommand {
    static func prepareAll(file: String, options: GlobalOptions) -> [(ProbeManifest, GlobalOptions.Plan)] {
        let manifests: [ProbeManifest]
        do {
            manifests = try ManifestSource.load(file)
        } catch {
            usage("\(error)")
        }
        // Every manifest's selector is checked, even when -n or --selector
        // overrides it: a manifest with a mistake is refused whole.
        for manifest in manifests {
            if let nodes = manifest.nodes, let selector = nodes.selector {
                do {
                    _ = try LabelSelector(parsing: selector)
                } catch {
                    usage("\(manifest.file):\(nodes.line): nodes.selector: column \(error.column) of '\(selector)': \(error.message)")
                }
            }
        }
        return manifests.map { manifest in
            do {
                let selection = manifest.nodes.map {
                    NodeSelection(selector: $0.selector, names: $0.names ?? [], origin: "manifest \(manifest.file) line \($0.line)")
                }
                return (manifest, try options.plan(selection: selection))
            } catch {
                usage("\(error)")
            }
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

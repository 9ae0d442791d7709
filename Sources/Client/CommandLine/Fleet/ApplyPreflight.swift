import ArgumentParser
import BpfleetShared

/// `apply --preflight` (or the manifest's `rollout.preflight: true`): the
/// object is verified on every selected node before the canary, and the
/// whole rollout is refused, naming each node that would fail and why,
/// when any would. No probe is loaded or unloaded anywhere. The object is
/// uploaded to the nodes that lack it (the rollout needs it there); when
/// the rollout is refused, or in a dry run, those uploads are deleted again.
enum ApplyPreflight {
    /// Whether the rollout may go on; prints the refusal when not.
    static func passes(_ manifest: ProbeManifest, plan: GlobalOptions.Plan, format: OutputFormat, verifierLog: Bool, dryRun: Bool) async -> Bool {
        let verify = FleetVerify(objectBytes: manifest.objectBytes, name: manifest.objectUpload.name, signatures: manifest.signatures,
                                 programs: manifest.programs,
                                 globals: manifest.globals, maps: manifest.maps)
        let results = await verify.run(on: plan.targets, fanOut: plan.fanOut, keepUploads: !dryRun)
        let failing = results.filter { !$0.verified }
        let errors = StandardStream.error()
        guard !failing.isEmpty else {
            if format.isForPeople {
                errors.write("bpfleet: preflight: probe \(manifest.probe) verified on \(results.count) node\(results.count == 1 ? "" : "s")\n")
                errors.flush()
            }
            return true
        }
        await verify.removeUploads(results, fanOut: plan.fanOut)
        VerifyPresenter(format: format, verifierLog: verifierLog).show(results)
        errors.write("bpfleet: preflight refused the rollout of probe \(manifest.probe): \(failing.count) of \(results.count) node\(results.count == 1 ? "" : "s") would fail; no node was changed\n")
        for result in failing {
            let why: String
            switch result.result {
            case .success(let verified): why = VerifyGroup.verdict(of: verified).text
            case .failure(let failure): why = (failure.unreachable ? "unreachable: " : "") + failure.message
            }
            errors.write("bpfleet: \(result.node): \(why)\n")
        }
        errors.flush()
        return false
    }
}

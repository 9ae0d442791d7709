import BpfleetShared
import Foundation

/// Takes over a probe an earlier bpfleetd left pinned: the same kernel
/// programs, maps and links, still running, by their pins' descriptors.
/// What the kernel does not keep (sections, expected attach types, map
/// names) comes from the stored object, described by the object helper;
/// this process never opens it.
struct ProbeAdoption {
    let pinRoot: String
    let attacher: Attacher

    enum Outcome {
        case adopted(LoadedProbe, notes: [String])
        /// The pins cannot be adopted (why); the caller restores the probe.
        case notAdoptable(String)
    }

    func adopt(_ desired: DesiredProbe, described: HelperReply.Described) throws(ResponseError) -> Outcome {
        let directory = "\(pinRoot)/\(desired.name)"
        guard FileManager.default.fileExists(atPath: directory) else { return .notAdoptable("no pins") }
        var facts: [ProgramFacts] = []
        for name in desired.programs {
            guard let fact = described.facts.first(where: { $0.name == name }) else {
                throw ResponseError(.invalidObject, "program '\(name)' of the desired state is not in object \(desired.objectId)")
            }
            facts.append(fact)
        }
        let probe: LoadedProbe
        switch LoadedProbe.open(name: desired.name, objectId: desired.objectId, labels: desired.labels, globals: desired.globals,
                                mapSettings: desired.maps ?? [:], metrics: desired.metrics ?? [], directory: directory, programs: facts, maps: described.maps.map(\.name), expected: described.maps,
                                loadedAt: desired.loadedAt, origin: .adopted) {
        case .success(let opened): probe = opened
        case .failure(let failure): return .notAdoptable(failure.description)
        }
        probe.nextLinkId = max(desired.nextLinkId, (desired.links.map(\.linkId).max() ?? 0) + 1)
        mkdir(directory + "/links", 0o700)

        var notes: [String] = []
        do throws(ResponseError) {
            probe.exports = try CompiledExport.compile(probe.metrics, maps: probe.maps)
        } catch {
            notes.append("its map exports do not fit its maps and are not served: \(error.message)")
        }
        var failures: [String] = []
        for wanted in desired.links {
            let path = "\(directory)/links/\(wanted.linkId)"
            let program = try probe.program(named: wanted.program)
            let link: BPFLink
            switch PinnedLink.open(at: path, target: wanted.target, programFD: program.fd) {
            case .success(let opened):
                link = opened
            case .failure(.notALink(let reason)):
                failures.append("link \(wanted.linkId) (\(wanted.program) to \(wanted.target.type)): \(reason)")
                probe.unattachedLinks[wanted.linkId] = wanted
                probe.unattachedReasons[wanted.linkId] = reason
                continue
            case .failure(.missing):
                // Pinned links that went missing are attached again.
                do throws(ResponseError) {
                    link = try kernelCall { () throws(KernelError) in
                        let attached = try attacher.attach(program.attachable, to: wanted.target, usdtSpecs: probe.usdtSpecs)
                        try attached.pin(at: path)
                        return attached
                    }
                    notes.append("link \(wanted.linkId) was not pinned and is attached again")
                } catch {
                    failures.append("link \(wanted.linkId) (\(wanted.program) to \(wanted.target.type)): \(error.message)")
                    probe.unattachedLinks[wanted.linkId] = wanted
                    probe.unattachedReasons[wanted.linkId] = error.message
                    continue
                }
            }
            probe.links[wanted.linkId] = ProbeLink(
                link: link,
                description: LinkDescription(linkId: wanted.linkId, id: link.kernelID, ids: link.kernelIDs, program: wanted.program,
                                             target: wanted.target, pinPath: path, attachedAt: wanted.attachedAt))
        }
        // A link pinned but not in the desired state was attached (or
        // detached) by a request whose reply never went out: the desired
        // state is what the operator was told, so the pin goes.
        let known = Set(desired.links.map { String($0.linkId) })
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/links")) ?? [] where !known.contains(file) {
            try? FileManager.default.removeItem(atPath: "\(directory)/links/\(file)")
            notes.append("link pin \(file) is not in the desired state and was removed")
        }
        if !failures.isEmpty {
            probe.restoreError = "not attached again: " + failures.joined(separator: "; ")
        }
        return .adopted(probe, notes: notes)
    }
}

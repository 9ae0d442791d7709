import BpfleetShared
import Foundation
import Logging
import NIOCore

/// The node's kernel state: stored objects and loaded probes. An actor whose
/// executor is a dedicated kernel thread, so verifier loads and other
/// blocking kernel calls never run on a network event loop, and every change
/// to the probes is serialized.
public actor ProbeRegistry {
    private let kernelLoop: any EventLoop
    var store: ObjectStore
    var probes: [String: LoadedProbe] = [:]
    /// Probes of the desired state that could not be adopted or restored at
    /// start-up: nothing of them runs; `probe.unload` forgets them.
    var failed: [String: FailedProbe] = [:]
    let desired: DesiredStateStore
    let intents: IntentStore
    /// --max-probe-memory: what one probe's maps may take in the kernel.
    let maxProbeMemory: UInt64
    let attacher: Attacher
    let pinRoot: String
    let logger: Logger
    /// Opens and describes uploaded objects out of this process.
    let helper: ObjectHelper
    /// --object-policy: whose signatures an object needs; nil takes all.
    let policy: ObjectPolicy?

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        kernelLoop.executor.asUnownedSerialExecutor()
    }

    init(kernelLoop: any EventLoop, stateDirectory: String, pinRoot: String, maxProbeMemory: UInt64, features: KernelFeatures,
         helper: ObjectHelper, policy: ObjectPolicy? = nil, logger: Logger, metrics: ServerMetrics? = nil) throws {
        self.kernelLoop = kernelLoop
        self.store = try ObjectStore(stateDirectory: stateDirectory)
        self.desired = try DesiredStateStore(stateDirectory: stateDirectory, metrics: metrics)
        self.intents = try IntentStore(stateDirectory: stateDirectory)
        self.maxProbeMemory = maxProbeMemory
        self.attacher = Attacher(features: features)
        self.pinRoot = pinRoot
        self.helper = helper
        self.policy = policy
        self.logger = logger
    }

    // MARK: Objects

    func upload(_ request: ObjectUpload) throws(ResponseError) -> ObjectDescription {
        guard let data = Data(base64Encoded: request.data, options: .ignoreUnknownCharacters), !request.data.isEmpty else {
            throw .invalidParams("data: not valid base64", field: "data")
        }
        let elf = Array(data)
        let objectId = ObjectSignature.digest(of: elf)
        try ObjectStore.checkForm(request.signatures ?? [])
        // The policy first: an object it refuses never reaches libbpf.
        let existing = store.objects[objectId]
        let signatures = ObjectStore.merged(existing?.signatures ?? [], request.signatures ?? [])
        guard signatures.count <= ObjectStore.maxSignatures else {
            throw .invalidParams("signatures: the object would hold \(signatures.count) signatures; at most \(ObjectStore.maxSignatures)", field: "signatures")
        }
        let verdict = try policy?.judge(digest: objectId, signatures: signatures)
        if var existing {
            existing.judged(verdict, signatures: signatures)
            return described(try store.update(existing))
        }
        // libbpf parses the object in the helper process: whatever the
        // bytes do to it, this process only sees an answer.
        // The name libbpf gives the object in its messages: the uploader's.
        let parts = try helper.describe(elf, name: request.name.map { String($0.prefix(64)) } ?? "the uploaded object")
        guard !parts.programs.isEmpty else {
            throw ResponseError(.invalidObject, "the object has no programs (no SEC(\"...\") functions)", data: ["libbpf": ""])
        }
        var description = ObjectDescription(
            objectId: objectId, name: request.name, size: elf.count, uploadedAt: Date(), programs: parts.programs,
            maps: parts.maps, globals: parts.globals, usedBy: [])
        description.judged(verdict, signatures: signatures)
        warnIfAudited(verdict, objectId)
        let stored = try store.add(elf: elf, description: description)
        logger.info("object stored", metadata: ["objectId": "\(objectId)", "size": "\(elf.count)",
                                                "signers": "\(verdict.map { $0.signers.map(\.keyId).joined(separator: ",") } ?? "-")"])
        return described(stored)
    }

    /// Before a stored object is loaded or verified: whether the node's
    /// object policy, as it is now, still takes the signatures it holds
    /// (a key removed since its upload no longer counts). The verdict is
    /// kept with the object; -32002 when it no longer satisfies it.
    func admit(_ objectId: String) throws(ResponseError) {
        guard let policy else { return }
        var description = try store.description(of: objectId)
        let signatures = description.signatures ?? []
        let verdict = try policy.judge(digest: objectId, signatures: signatures)
        description.judged(verdict, signatures: signatures)
        _ = try store.update(description)
        warnIfAudited(verdict, objectId)
    }

    /// An object only `unsigned: audit` let in is said in the log as well
    /// as recorded.
    private func warnIfAudited(_ verdict: ObjectPolicy.Verdict?, _ objectId: String) {
        guard let reason = verdict?.audited else { return }
        logger.warning("object admitted by the object policy's unsigned: audit", metadata: ["objectId": "\(objectId)", "reason": "\(reason)"])
    }

    /// A probe's description with what the policy made of its object.
    func signed(_ probe: ProbeDescription) -> ProbeDescription {
        guard let object = store.objects[probe.objectId] else { return probe }
        var copy = probe
        copy.signers = object.signers
        copy.policy = object.policy
        return copy
    }

    func objects() -> [ObjectDescription] {
        store.objects.values.sorted { $0.uploadedAt < $1.uploadedAt }.map(described)
    }

    func object(_ objectId: String) throws(ResponseError) -> ObjectDescription {
        described(try store.description(of: objectId))
    }

    func deleteObject(_ objectId: String) throws(ResponseError) {
        let description = described(try store.description(of: objectId))
        guard description.usedBy.isEmpty else {
            throw .conflict("object \(objectId) is used by probes: \(description.usedBy.joined(separator: ", "))",
                            ["probes": .array(description.usedBy.map(JSONValue.string))])
        }
        store.remove(objectId)
    }

    private func described(_ description: ObjectDescription) -> ObjectDescription {
        var copy = description
        copy.usedBy = (probes.values.filter { $0.objectId == description.objectId }.map(\.name)
            + failed.values.filter { $0.desired.objectId == description.objectId }.map(\.desired.name)).sorted()
        return copy
    }

    // MARK: Probes

    func load(_ request: ProbeLoad) throws(ResponseError) -> ProbeDescription {
        try Self.validateProbeName(request.name)
        if request.keepMaps?.isEmpty == false, request.replace != true {
            throw .invalidParams("keepMaps: only with replace: true (it names maps of the probe being replaced)", field: "keepMaps")
        }
        // A replace of a name nothing holds is a plain load (keepMaps then
        // has nothing to keep); a failed probe is unloaded first, as ever.
        if request.replace == true, probes[request.name] != nil {
            guard request.attach == nil else {
                throw .invalidParams("attach: not with replace of a loaded probe: its links move to the new programs (attach or detach links after the replace)",
                                     field: "attach")
            }
            return try replace(request)
        }
        guard probes[request.name] == nil, failed[request.name] == nil else {
            throw .conflict("a probe named '\(request.name)' is already loaded", ["probe": .string(request.name)])
        }
        let elf = try store.elf(of: request.objectId)
        // From the first pin to the desired state, a crash leaves the
        // intent: the next start removes what was pinned.
        try intents.begin(request.name)
        defer { intents.end(request.name) }
        let probe = try loadPinned(request, elf: elf, directory: "\(pinRoot)/\(request.name)", loadedAt: Date(), origin: .loaded)
        do {
            try attachAll(request.attach ?? [], to: probe)
            try desired.write(probe.desiredState())
        } catch {
            probe.unpinAll()
            probe.links.removeAll()
            throw error
        }
        probes[request.name] = probe
        logger.info("probe loaded", metadata: ["probe": "\(request.name)", "objectId": "\(request.objectId)"])
        return probe.describe()
    }

    /// The object helper loads the probe and pins it under `directory`;
    /// this process takes it over from the pins. `reuse` names kept maps
    /// by their pins. Nothing is left pinned when it fails.
    func loadPinned(_ request: ProbeLoad, elf: [UInt8], directory: String, reuse: [String: String] = [:],
                    loadedAt: Date, origin: ProbeOrigin) throws(ResponseError) -> LoadedProbe {
        // Before the helper opens anything: a load, a replace and a restore
        // from a state file (read like a request) alike.
        try MapSettingsCheck(maps: try store.description(of: request.objectId).maps).check(request.maps)
        try checkExportShape(request.metrics, maps: try store.description(of: request.objectId).maps.map(\.name))
        let loaded: HelperReply.Loaded
        do throws(ResponseError) {
            loaded = try helper.load(HelperRequest.LoadSpec(probe: request, pinDirectory: directory, reuse: reuse,
                                                            maxProbeMemory: maxProbeMemory),
                                     elf: elf, name: String(request.name.prefix(15)))
        } catch {
            // A helper that died may have pinned part of the probe.
            if error.data?["helper"] != nil { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
        switch LoadedProbe.open(name: request.name, objectId: request.objectId, labels: request.labels ?? [:],
                                globals: request.globals ?? [:], mapSettings: request.maps ?? [:], metrics: request.metrics ?? [],
                                directory: directory, programs: loaded.programs, maps: loaded.maps, loadedAt: loadedAt, origin: origin) {
        case .success(let probe):
            do throws(ResponseError) {
                probe.exports = try CompiledExport.compile(probe.metrics, maps: probe.maps)
                try checkExportKinds(probe)
            } catch {
                probe.unpinAll()
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
            return probe
        case .failure(let failure):
            try? FileManager.default.removeItem(atPath: directory)
            throw ResponseError(.internalError, "the pins of the probe the object helper loaded could not be taken over: \(failure)")
        }
    }

    /// `probe.load`'s `attach`: each link in order under link ids 1, 2, ...
    /// A failure names the entry (`data.attach`, and `data.field` under
    /// `attach[i]`); the caller then frees the probe with every link made.
    private func attachAll(_ attachments: [ProbeLoad.Attachment], to probe: LoadedProbe) throws(ResponseError) {
        for (index, attachment) in attachments.enumerated() {
            do throws(ResponseError) {
                _ = try addLink(attachment.program, to: attachment.target, of: probe)
            } catch {
                var data: [String: JSONValue] = [:]
                if case .object(let fields)? = error.data { data = fields }
                data["attach"] = .int(Int64(index))
                if case .string(let field)? = data["field"] { data["field"] = .string("attach[\(index)].\(field)") }
                if error.code == .notFound, data["kind"] == .string("program") { data["field"] = .string("attach[\(index)].program") }
                throw ResponseError(error.code, "attach[\(index)] (\(attachment.program) to \(attachment.target.type)): \(error.message)",
                                    data: .object(data))
            }
        }
    }

    func attach(_ request: ProbeAttach) throws(ResponseError) -> LinkDescription {
        let probe = try probe(named: request.probe)
        let description = try addLink(request.program, to: request.target, of: probe)
        do {
            try desired.write(probe.desiredState())
        } catch {
            probe.links.removeValue(forKey: description.linkId)?.link.unpin()
            throw error
        }
        logger.info("link attached", metadata: ["probe": "\(request.probe)", "program": "\(request.program)", "target": "\(request.target)"])
        return description
    }

    /// A new link of the probe's `program` under its next link id, attached,
    /// pinned and recorded in the probe (not yet in the desired state).
    private func addLink(_ program: String, to target: AttachTarget, of probe: LoadedProbe) throws(ResponseError) -> LinkDescription {
        let loaded = try probe.program(named: program)
        let linkId = probe.nextLinkId
        let path = "\(probe.pinDirectory)/links/\(linkId)"
        let link = try attachAndPin(loaded, of: probe, to: target, at: path)
        probe.nextLinkId += 1
        var description = LinkDescription(linkId: linkId, id: link.kernelID, ids: link.kernelIDs, program: program,
                                          target: target, pinPath: path, attachedAt: Date(), state: "attached")
        description.resolvedTarget = probe.autoTarget(of: description)
        probe.links[linkId] = ProbeLink(link: link, description: description)
        return description
    }

    /// A fresh link of `program`, by its descriptor, pinned at `path`.
    func attachAndPin(_ program: ProbeProgram, of probe: LoadedProbe, to target: AttachTarget, at path: String) throws(ResponseError) -> BPFLink {
        try kernelCall { () throws(KernelError) in
            let link = try attacher.attach(program.attachable, to: target, usdtSpecs: probe.usdtSpecs)
            try link.pin(at: path)
            return link
        }
    }

    func detach(_ request: ProbeDetach) throws(ResponseError) {
        let probe = try probe(named: request.probe)
        if let unattached = probe.unattachedLinks.removeValue(forKey: request.linkId) {
            do {
                try desired.write(probe.desiredState())
            } catch {
                probe.unattachedLinks[request.linkId] = unattached
                throw error
            }
            if probe.unattachedLinks.isEmpty { probe.restoreError = nil }
            // What may be pinned there (a pin bpfleetd could not take over).
            try? FileManager.default.removeItem(atPath: "\(probe.pinDirectory)/links/\(request.linkId)")
            return
        }
        guard let link = probe.links.removeValue(forKey: request.linkId) else {
            throw ResponseError(.notFound, "probe '\(request.probe)' has no link \(request.linkId) (links: \(probe.links.keys.sorted().map(String.init).joined(separator: ", ")))",
                                data: ["kind": "link", "linkId": .int(Int64(request.linkId))])
        }
        // The desired state first: a crash between the two leaves a pin
        // that the next start removes, never a link that comes back.
        do {
            try desired.write(probe.desiredState())
        } catch {
            probe.links[request.linkId] = link
            throw error
        }
        link.link.unpin()
        if let path = link.description.pinPath { rmdir(path) }
    }

    func unload(_ name: String) throws(ResponseError) {
        // From the desired state's removal to the last pin's, a crash
        // leaves the intent: the next start removes what is still pinned.
        try intents.begin(name)
        defer { intents.end(name) }
        if failed[name] != nil {
            try desired.remove(name)
            failed[name] = nil
            removePins(of: name)
            logger.info("probe unloaded", metadata: ["probe": "\(name)", "state": "failed"])
            return
        }
        let probe = try probe(named: name)
        // The desired state first: a crash between the two leaves pins the
        // next start removes (the intent), never a probe that comes back.
        try desired.remove(name)
        probes[name] = nil
        probe.unpinAll()
        probe.links.removeAll()
        logger.info("probe unloaded", metadata: ["probe": "\(name)"])
    }

    func describeProbes() -> [ProbeDescription] {
        Set(probes.keys).union(failed.keys).sorted().compactMap { name in
            (probes[name]?.describe() ?? failed[name]?.describe()).map(signed)
        }
    }

    func describeProbe(_ name: String) throws(ResponseError) -> ProbeDescription {
        if let failure = failed[name] { return signed(failure.describe()) }
        return signed(try probe(named: name).describe())
    }

    /// The struct types a loaded probe's object defines (`recordTypes`);
    /// nil for a probe that failed to come back or whose object has no BTF.
    func recordTypes(of name: String) -> [String]? {
        probes[name]?.btf?.reader.ownStructTypes()
    }

    func maps(of probeName: String?) throws(ResponseError) -> [LoadedMap] {
        let selected = try probeName.map { name throws(ResponseError) in [try probe(named: name)] } ?? probes.sorted { $0.key < $1.key }.map(\.value)
        return selected.flatMap { probe in probe.maps.map { $0.describe(probe: probe.name) } }
    }

    /// The map of that kernel id and its probe, when a probe of this node
    /// holds it.
    func ownedMap(id: UInt32) -> (probe: LoadedProbe, map: ProbeMap)? {
        for probe in probes.values {
            if let map = probe.maps.first(where: { $0.info.id == id }) { return (probe, map) }
        }
        return nil
    }

    /// A map and the probe that keeps its descriptor open while in use.
    func map(_ ref: MapRef) throws(ResponseError) -> (probe: LoadedProbe, map: ProbeMap) {
        switch ref {
        case .named(let probeName, let mapName):
            let probe = try probe(named: probeName)
            return (probe, try probe.map(named: mapName))
        case .id(let id):
            if let owned = ownedMap(id: id) { return owned }
            throw ResponseError(.notFound, "no probe on this node holds map id \(id)", data: ["kind": "map", "id": .int(Int64(id))])
        }
    }

    func probe(named name: String) throws(ResponseError) -> LoadedProbe {
        guard let probe = probes[name] else {
            if let failure = failed[name] {
                throw .conflict("probe '\(name)' failed to come back at start-up (\(failure.error)); unload it (probe.unload) and load it again",
                                ["probe": .string(name), "state": "failed", "restoreError": .string(failure.error)])
            }
            throw .notFound("probe", name)
        }
        return probe
    }

    /// Removes whatever is pinned under `PINROOT/NAME`.
    func removePins(of name: String) {
        let directory = "\(pinRoot)/\(name)"
        if FileManager.default.fileExists(atPath: directory) {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Probe names become bpffs directory names.
    static func validateProbeName(_ name: String) throws(ResponseError) {
        let allowed = name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed, !name.hasPrefix(".") else {
            throw .invalidParams("name: '\(name)' is not a valid probe name (1-64 of A-Z a-z 0-9 _ - ., not starting with '.')", field: "name")
        }
    }

    /// Everything loaded right now, for shutdown logging.
    var probeCount: Int { probes.count }

    // MARK: Start-up

    /// Brings back every probe of the desired state (docs/state-and-pins.md):
    /// adopts its pins when they are there, restores it from the stored
    /// object when they are not, and otherwise records it as failed. Logs a
    /// line per probe and the totals; never throws.
    func recover() {
        let reading = desired.readAll()
        for aside in reading.setAside {
            logger.error("unreadable desired state set aside", metadata: [
                "file": "\(aside.file)", "movedTo": "\(aside.movedTo)", "reason": "\(aside.reason)"])
        }
        settleInterruptedCalls(desired: Set(reading.probes.map(\.name)))
        var counts: [String: Int] = ["adopted": 0, "restored": 0, "degraded": 0, "failed": 0]
        for wanted in reading.probes {
            let outcome = recover(wanted)
            counts[outcome, default: 0] += 1
        }
        let known = Set(reading.probes.map(\.name))
        let orphans = ((try? FileManager.default.contentsOfDirectory(atPath: pinRoot)) ?? []).filter { !known.contains($0) }.sorted()
        if !orphans.isEmpty {
            logger.warning("pins without a desired state are under the pin root and are left as they are (rm -rf PINROOT/PROBE removes them)",
                           metadata: ["pinRoot": "\(pinRoot)", "probes": "\(orphans)"])
        }
        logger.notice("probes recovered", metadata: [
            "adopted": "\(counts["adopted", default: 0])", "restored": "\(counts["restored", default: 0])",
            "degraded": "\(counts["degraded", default: 0])", "failed": "\(counts["failed", default: 0])",
            "setAside": "\(reading.setAside.count)", "orphans": "\(orphans.count)",
        ])
    }

    /// Loads and unloads a crash interrupted (their intents), and the
    /// leftovers of replaces of probes that no longer have a desired state.
    /// With a desired state, the pins are what it says (a load writes it
    /// last, an unload removes it first), and adoption takes them; without
    /// one, they are the half of a call that did not finish: removed.
    private func settleInterruptedCalls(desired names: Set<String>) {
        for name in intents.pending() {
            if !names.contains(name), (try? Self.validateProbeName(name)) != nil {
                removePins(of: name)
                logger.notice("an interrupted load or unload was settled: its pins are removed", metadata: ["probe": "\(name)"])
            }
            intents.end(name)
        }
        let journal = ReplaceJournal(desired: desired)
        AtomicFile.removeTemporaries(in: journal.directory)
        for file in (try? FileManager.default.contentsOfDirectory(atPath: journal.directory)) ?? [] where file.hasSuffix(".json") {
            let name = String(file.dropLast(".json".count))
            guard !names.contains(name) else { continue }
            journal.remove(name)
            try? FileManager.default.removeItem(atPath: "\(pinRoot)/\(name)~replace")
        }
    }

    /// One probe; answers what became of it.
    private func recover(_ recorded: DesiredProbe) -> String {
        // A replace a crash interrupted is rolled forward or back first.
        let wanted = settleReplacement(of: recorded)
        let name = wanted.name
        var attempt = ProbeOrigin.adopted
        do throws(ResponseError) {
            try Self.validateProbeName(name)
            let elf: [UInt8]
            do throws(ResponseError) {
                elf = try store.elf(of: wanted.objectId)
            } catch {
                throw ResponseError(.notFound, "object \(wanted.objectId) is not in the state directory: \(error.message)")
            }
            let adoption = ProbeAdoption(pinRoot: pinRoot, attacher: attacher)
            let described = try helper.describe(elf, name: String(name.prefix(15)))
            switch try adoption.adopt(wanted, described: described) {
            case .adopted(let probe, let notes):
                probes[name] = probe
                if !probe.unattachedLinks.isEmpty {
                    logger.error("probe adopted without some of its links", metadata: [
                        "probe": "\(name)", "error": "\(probe.restoreError ?? "")", "notes": "\(notes)"])
                    return "degraded"
                }
                logger.notice("probe adopted", metadata: [
                    "probe": "\(name)", "programIds": "\(probe.describe().programs.map(\.id))",
                    "links": "\(probe.links.count)", "notes": "\(notes)"])
                return "adopted"
            case .notAdoptable(let reason):
                attempt = .restored
                let probe = try restore(wanted, elf: elf)
                probes[name] = probe
                logger.notice("probe restored", metadata: [
                    "probe": "\(name)", "why": "\(reason)", "programIds": "\(probe.describe().programs.map(\.id))",
                    "links": "\(probe.links.count)"])
                return "restored"
            }
        } catch {
            failed[name] = FailedProbe(desired: wanted, error: error.message, attempted: attempt, at: Date())
            logger.error("probe failed to come back", metadata: [
                "probe": "\(name)", "attempted": "\(attempt.rawValue)", "error": "\(error.message)"])
            return "failed"
        }
    }

    /// Loads the probe again with the same programs and globals and
    /// attaches the same links under the same link ids: all of it, or
    /// nothing (what pins were left are removed first).
    private func restore(_ wanted: DesiredProbe, elf: [UInt8]) throws(ResponseError) -> LoadedProbe {
        removePins(of: wanted.name)
        let request = ProbeLoad(name: wanted.name, objectId: wanted.objectId, programs: wanted.programs,
                                globals: wanted.globals, labels: wanted.labels, maps: wanted.maps, metrics: wanted.metrics)
        let probe = try loadPinned(request, elf: elf, directory: "\(pinRoot)/\(wanted.name)", loadedAt: wanted.loadedAt, origin: .restored)
        do throws(ResponseError) {
            for link in wanted.links.sorted(by: { $0.linkId < $1.linkId }) {
                let path = "\(probe.pinDirectory)/links/\(link.linkId)"
                let attached: BPFLink
                do throws(ResponseError) {
                    attached = try attachAndPin(try probe.program(named: link.program), of: probe, to: link.target, at: path)
                } catch {
                    throw ResponseError(error.code, "link \(link.linkId) (\(link.program) to \(link.target.type)): \(error.message)", data: error.data)
                }
                probe.links[link.linkId] = ProbeLink(
                    link: attached,
                    description: LinkDescription(linkId: link.linkId, id: attached.kernelID, ids: attached.kernelIDs, program: link.program,
                                                 target: link.target, pinPath: path, attachedAt: link.attachedAt))
            }
        } catch {
            probe.unpinAll()
            probe.links.removeAll()
            throw error
        }
        probe.nextLinkId = max(wanted.nextLinkId, (wanted.links.map(\.linkId).max() ?? 0) + 1)
        return probe
    }
}

extension ProbeRegistry {
    /// The kernel ids of every probe's programs, maps and links, with the
    /// probe and name each belongs to (the node inventory's `owner`).
    func kernelOwners() -> KernelInventory.Owners {
        var owners = KernelInventory.Owners()
        for probe in probes.values {
            for program in probe.programs {
                if let info = ProgramInfo(fd: program.fd) { owners.programs[info.id] = ProbeOwner(probe: probe.name, name: program.name) }
            }
            for map in probe.maps { owners.maps[map.info.id] = ProbeOwner(probe: probe.name, name: map.name) }
            for (linkId, link) in probe.links {
                for id in link.link.kernelIDs where id != 0 { owners.links[id] = ProbeOwner(probe: probe.name, linkId: linkId) }
            }
        }
        return owners
    }
}

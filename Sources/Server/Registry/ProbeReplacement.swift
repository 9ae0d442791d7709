import BpfleetShared
import CBPFSupport
import Foundation

/// `probe.load` with `replace: true` (docs/state-and-pins.md, "Replacing a
/// probe"): the new probe is loaded beside the old one, takes over its links
/// under the same link ids and the maps the operator keeps, and the two pin
/// directories are swapped in one rename. Until that rename nothing of the
/// old probe has changed but the programs its updatable links run, and a
/// failure puts those back.
extension ProbeRegistry {
    /// Where the new probe is pinned until the swap, and where the old one's
    /// pins are after it. `~` is not allowed in a probe name: no probe owns it.
    func stagingDirectory(of name: String) -> String { "\(pinRoot)/\(name)~replace" }

    func replace(_ request: ProbeLoad) throws(ResponseError) -> ProbeDescription {
        let name = request.name
        let old = try probe(named: name)
        guard old.unattachedLinks.isEmpty else {
            throw .conflict("probe '\(name)' is degraded (\(old.restoreError ?? "links missing")); detach its missing links before replacing it",
                            ["probe": .string(name), "state": "degraded"])
        }
        let elf = try store.elf(of: request.objectId)
        let reusing = try checkReplacement(request, of: old, described: try store.description(of: request.objectId))
        let journal = ReplaceJournal(desired: desired)
        let live = "\(pinRoot)/\(name)"
        let staging = stagingDirectory(of: name)
        // What an earlier replace left (it cleans up after itself; this is a crash's).
        try? FileManager.default.removeItem(atPath: staging)
        journal.remove(name)

        // 1. The new probe, pinned beside the old one. The marker tells a
        //    restart which directory holds the new probe (see settleReplacement).
        let fresh = try loadPinned(request, elf: elf, directory: staging, reuse: reusing, loadedAt: Date(), origin: .loaded)
        var updated: [(linkId: Int, oldProgram: Int32)] = []
        var attached: [Int: BPFLink] = [:]
        func rollBack() {
            for (linkId, program) in updated {
                guard let link = old.links[linkId] else { continue }
                do throws(KernelError) {
                    try link.link.update(to: program, replacing: nil)
                } catch {
                    logger.error("could not point a link back at its old program", metadata: [
                        "probe": "\(name)", "linkId": "\(linkId)", "errno": "\(errnoName(error.errno ?? 0))"])
                }
            }
            attached.removeAll()  // unpinned: destroying them detaches them
            journal.remove(name)
            fresh.unpinAll()
            try? FileManager.default.removeItem(atPath: staging)
        }
        do throws(ResponseError) {
            guard mkdir("\(staging)/incoming", 0o700) == 0 else { throw .kernel("mkdir \(staging)/incoming", errno: currentErrno()) }
            var replacement = fresh.desiredState()
            replacement.links = old.desiredState().links
            replacement.nextLinkId = old.nextLinkId
            try journal.write(replacement)

            // 2. Links the kernel cannot move: a new link of the new program
            //    first, so the hook is never without a program.
            let updatable = Set(old.links.filter { $0.value.link.isUpdatable }.map(\.key))
            for (linkId, link) in old.links.sorted(by: { $0.key < $1.key }) where !updatable.contains(linkId) {
                do throws(ResponseError) {
                    let program = try fresh.program(named: link.description.program).attachable
                    attached[linkId] = try kernelCall { () throws(KernelError) in
                        try attacher.attach(program, to: link.description.target, usdtSpecs: fresh.usdtSpecs)
                    }
                } catch {
                    throw ResponseError(error.code, "link \(linkId) (\(link.description.program) to \(link.description.target.type)): the new program could not be attached: \(error.message)",
                                        data: error.data)
                }
            }
            // 3. Links the kernel moves in place: same kernel link, new program.
            for (linkId, link) in old.links.sorted(by: { $0.key < $1.key }) where updatable.contains(linkId) {
                let from = try old.program(named: link.description.program).fd
                let to = try fresh.program(named: link.description.program).fd
                do throws(KernelError) {
                    try link.link.update(to: to, replacing: from)
                } catch {
                    let code = error.errno ?? 0
                    throw ResponseError(.attachFailed, "link \(linkId) (\(link.description.target)): moving it to the new program failed: \(errnoText(code))",
                                        data: ["errno": .int(Int64(code)), "errnoName": .string(errnoName(code)),
                                               "linkId": .int(Int64(linkId)), "target": .string(link.description.target.description)])
                }
                updated.append((linkId, from))
            }
            // 4. The swap: PINROOT/NAME is the new probe from here on.
            guard bpfleet_rename_exchange(live, staging) == 0 else { throw .kernel("swap \(staging) and \(live)", errno: currentErrno()) }
        } catch {
            rollBack()
            logger.warning("probe replace failed; the old probe is unchanged", metadata: ["probe": "\(name)", "error": "\(error.message)"])
            throw error
        }

        // 5. Finish: past the swap there is no going back; what fails is
        //    logged, and a restart settles it from the journal.
        for linkId in updated.map(\.linkId) {
            if rename("\(staging)/links/\(linkId)", "\(live)/links/\(linkId)") != 0 {
                logger.error("could not move a link pin", metadata: ["probe": "\(name)", "linkId": "\(linkId)", "errno": "\(errnoName(currentErrno()))"])
            }
        }
        let probe = LoadedProbe(
            name: name, objectId: request.objectId, labels: request.labels ?? [:], globals: request.globals ?? [:],
            mapSettings: request.maps ?? [:], metrics: fresh.metrics, pinDirectory: live, btf: fresh.btf,
            programs: fresh.programs.map { program in
                var moved = program
                moved.pinPath = live + program.pinPath.dropFirst(staging.count)
                return moved
            },
            maps: fresh.maps.map { map in
                var moved = map
                moved.pinPath = live + map.pinPath.dropFirst(staging.count)
                return moved
            },
            loadedAt: Date(), origin: .loaded)
        probe.nextLinkId = old.nextLinkId
        probe.exports = fresh.exports
        for (linkId, link) in old.links {
            let path = "\(live)/links/\(linkId)"
            if let fresh = attached[linkId] {
                do throws(KernelError) {
                    try fresh.pin(at: path)
                } catch {
                    logger.error("could not pin a moved link; a restart attaches it again", metadata: [
                        "probe": "\(name)", "linkId": "\(linkId)", "errno": "\(errnoName(error.errno ?? 0))"])
                }
                var description = link.description
                description.id = fresh.kernelID
                description.pinPath = path
                probe.links[linkId] = ProbeLink(link: fresh, description: description)
            } else {
                probe.links[linkId] = link
            }
        }
        do {
            try desired.write(probe.desiredState())
            journal.remove(name)
        } catch {
            logger.error("the desired state of a replaced probe could not be written; the next start takes it from the journal",
                         metadata: ["probe": "\(name)", "error": "\(error.message)"])
        }
        rmdir("\(live)/incoming")
        let replacedProgramIds = old.describe().programs.map(\.id)
        // The old probe: its pins (and with them the links not moved) go;
        // its programs are freed when its descriptors close.
        try? FileManager.default.removeItem(atPath: staging)
        old.links.removeAll()
        probes[name] = probe
        logger.notice("probe replaced", metadata: [
            "probe": "\(name)", "objectId": "\(request.objectId)", "oldProgramIds": "\(replacedProgramIds)",
            "programIds": "\(probe.describe().programs.map(\.id))", "movedInPlace": "\(updated.map(\.linkId))",
            "attachedAnew": "\(attached.keys.sorted())", "keptMaps": "\(reusing.keys.sorted())"])
        var description = probe.describe()
        description.replacedProgramIds = replacedProgramIds
        return description
    }

    /// Everything that can be checked without the kernel, from the new
    /// object's description: each linked program is in the new object and
    /// selected; each kept map exists on both sides with the same type and
    /// sizes. Answers the pins of the kept maps by name.
    private func checkReplacement(_ request: ProbeLoad, of old: LoadedProbe, described: ObjectDescription) throws(ResponseError) -> [String: String] {
        let available = described.programs.map(\.name)
        let selected = Set(request.programs ?? available)
        for link in old.links.values.sorted(by: { $0.description.linkId < $1.description.linkId }) {
            let program = link.description.program
            guard available.contains(program) else {
                throw ResponseError(.invalidParams, "program '\(program)', which link \(link.description.linkId) of probe '\(old.name)' runs, is not in object \(request.objectId) (programs: \(available.joined(separator: ", ")))",
                                    data: ["field": "objectId", "program": .string(program), "linkId": .int(Int64(link.description.linkId))])
            }
            guard selected.contains(program) else {
                throw ResponseError(.invalidParams, "programs: program '\(program)', which link \(link.description.linkId) runs, must be loaded too",
                                    data: ["field": "programs", "program": .string(program), "linkId": .int(Int64(link.description.linkId))])
            }
        }
        var reusing: [String: String] = [:]
        for (index, name) in (request.keepMaps ?? []).enumerated() {
            let field = "keepMaps[\(index)]"
            guard let kept = old.maps.first(where: { $0.name == name }) else {
                throw ResponseError(.invalidParams, "\(field): probe '\(old.name)' has no map '\(name)' (maps: \(old.maps.map(\.name).joined(separator: ", ")))",
                                    data: ["field": .string(field), "map": .string(name)])
            }
            guard let map = described.maps.first(where: { $0.name == name }) else {
                throw ResponseError(.invalidParams, "\(field): the new object has no map '\(name)' (maps: \(described.maps.map(\.name).joined(separator: ", ")))",
                                    data: ["field": .string(field), "map": .string(name)])
            }
            guard !name.hasPrefix(".rodata") else {
                throw ResponseError(.invalidParams, "\(field): '\(name)' is read-only data, frozen at load; set it through globals instead",
                                    data: ["field": .string(field), "map": .string(name)])
            }
            let info = kept.info
            let keptType = mapTypeName(info.type)
            // The new map as the load would make it: the object's, with the call's settings.
            let setting = request.maps?[name]
            let maxEntries = setting?.maxEntries ?? map.maxEntries
            let valueSize = setting?.valueSize ?? map.valueSize
            if setting?.maxEntries != nil, maxEntries != info.maxEntries {
                let sizeField = "maps.\(name).maxEntries"
                throw ResponseError(.invalidParams, "\(sizeField): map '\(name)' is kept, and a kept map keeps its size (\(info.maxEntries)); \(maxEntries) would need a new map: replace without keeping it",
                                    data: ["field": .string(sizeField), "map": .string(name), "maxEntries": .int(Int64(info.maxEntries))])
            }
            let differences = [
                keptType != map.type ? "type \(keptType) vs \(map.type)" : nil,
                info.keySize != map.keySize ? "key size \(info.keySize) vs \(map.keySize)" : nil,
                info.valueSize != valueSize ? "value size \(info.valueSize) vs \(valueSize)" : nil,
                info.maxEntries != maxEntries ? "max entries \(info.maxEntries) vs \(maxEntries) (set maps.\(name).maxEntries to \(info.maxEntries))" : nil,
            ].compactMap { $0 }
            guard differences.isEmpty else {
                throw ResponseError(.invalidParams, "\(field): map '\(name)' of the new object does not match the kept one (old vs new: \(differences.joined(separator: ", ")))",
                                    data: ["field": .string(field), "map": .string(name), "differences": .array(differences.map(JSONValue.string))])
            }
            reusing[name] = kept.pinPath
        }
        return reusing
    }

    /// At start-up, before a probe is adopted: a replace that a crash cut
    /// short is finished when the swap had happened (the new probe's
    /// directory, marked `incoming`, is PINROOT/NAME) and undone when it had
    /// not (links moved in place point at the old programs again). Answers
    /// the desired state to bring back.
    func settleReplacement(of wanted: DesiredProbe) -> DesiredProbe {
        let journal = ReplaceJournal(desired: desired)
        let live = "\(pinRoot)/\(wanted.name)"
        let staging = stagingDirectory(of: wanted.name)
        guard let replacement = journal.read(wanted.name) else {
            // No journal: what is there is the old probe's leftovers, or a new
            // one that never took anything over.
            if FileManager.default.fileExists(atPath: staging) {
                try? FileManager.default.removeItem(atPath: staging)
                logger.notice("removed the leftovers of a replace", metadata: ["probe": "\(wanted.name)"])
            }
            return wanted
        }
        if FileManager.default.fileExists(atPath: "\(live)/incoming") {
            for link in replacement.links where !FileManager.default.fileExists(atPath: "\(live)/links/\(link.linkId)") {
                rename("\(staging)/links/\(link.linkId)", "\(live)/links/\(link.linkId)")
            }
            rmdir("\(live)/incoming")
            do throws(ResponseError) {
                try desired.write(replacement)
            } catch {
                logger.error("could not commit a replace", metadata: ["probe": "\(wanted.name)", "error": "\(error.message)"])
                return replacement
            }
            journal.remove(wanted.name)
            try? FileManager.default.removeItem(atPath: staging)
            logger.notice("finished a replace a crash interrupted", metadata: ["probe": "\(wanted.name)", "objectId": "\(replacement.objectId)"])
            return replacement
        }
        for link in wanted.links {
            PinnedLink.pointBack("\(live)/links/\(link.linkId)", at: ProbeLoader.programPinPath(link.program, under: live))
        }
        try? FileManager.default.removeItem(atPath: staging)
        journal.remove(wanted.name)
        logger.notice("undid a replace a crash interrupted", metadata: ["probe": "\(wanted.name)"])
        return wanted
    }
}

/// `STATE/replacing/NAME.json`: the desired state a replace in progress is
/// about to commit, written before any link moves and removed once the
/// probe's own desired state says the same.
struct ReplaceJournal {
    let directory: String

    init(desired: DesiredStateStore) {
        directory = (desired.directory as NSString).deletingLastPathComponent + "/replacing"
    }

    func write(_ probe: DesiredProbe) throws(ResponseError) {
        do {
            try makeDirectories(directory)
            let encoder = JSONEncoder.wire()
            encoder.outputFormatting.insert(.sortedKeys)
            try AtomicFile.write(Array(try encoder.encode(probe)), to: "\(directory)/\(probe.name).json")
        } catch {
            throw ResponseError(.internalError, "could not write the replace journal of probe '\(probe.name)': \(error)")
        }
    }

    func read(_ name: String) -> DesiredProbe? {
        guard let data = FileManager.default.contents(atPath: "\(directory)/\(name).json") else { return nil }
        return try? JSONDecoder.wire().decode(DesiredProbe.self, from: data)
    }

    func remove(_ name: String) {
        unlink("\(directory)/\(name).json")
    }
}

import BpfleetShared
import CLibBPF
import Foundation

/// Takes over a probe an earlier bpfleetd left pinned: the same kernel
/// programs, maps and links, still running, by their pins' descriptors.
/// What the kernel does not keep (sections, expected attach types, map
/// names) comes from the stored object, described by the object helper;
/// this process never opens it.
struct ProbeAdoption {
    let pinRoot: String
    let attach: DescriptorAttach

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
                                directory: directory, programs: facts, maps: described.maps.map(\.name), expected: described.maps,
                                loadedAt: desired.loadedAt, origin: .adopted) {
        case .success(let opened): probe = opened
        case .failure(let failure): return .notAdoptable(failure.description)
        }
        probe.nextLinkId = max(desired.nextLinkId, (desired.links.map(\.linkId).max() ?? 0) + 1)
        mkdir(directory + "/links", 0o700)

        var notes: [String] = []
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
                    link = try attach.attach(program.byDescriptor, probe: desired.name, to: wanted.target, usdtSpecs: probe.usdtSpecs)
                    guard link.pin(at: path) == 0 else {
                        throw ResponseError.kernel("pin link at \(path)", errno: currentErrno())
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

/// A link an earlier bpfleetd pinned, opened again. A pin is one link
/// (`links/ID`) or, for a target that makes a link per CPU, a directory of
/// them (`links/ID/cpu0`, ...): see BPFLink.
enum PinnedLink {
    enum Failure: Error {
        /// Nothing is pinned there.
        case missing
        /// Something is, but not links (a classic tc filter pins its program).
        case notALink(String)
    }

    /// The link pinned at `path` for `target`, attached for the program
    /// `programFD` holds.
    static func open(at path: String, target: AttachTarget, programFD: Int32) -> Result<BPFLink, Failure> {
        var status = stat()
        guard stat(path, &status) == 0 else { return .failure(.missing) }
        if case .tc(let interface, let direction, let priority) = target, (status.st_mode & S_IFMT) != S_IFDIR {
            let pinned = bpf_obj_get(path)
            if pinned >= 0 {
                let owned = OwnedDescriptor(pinned)
                // A tcx link pins at the same path as a classic filter's
                // program; bpf_obj_get_info_by_fd would read either.
                if isProgram(owned.fd), let info = ProgramInfo(fd: owned.fd) {
                    return classicTCFilter(at: path, programID: info.id, interface: interface, egress: direction == "egress",
                                           priority: priority, programFD: programFD)
                }
            }
        }
        return open(at: path, status: status)
    }

    /// Whether `fd` is a program's descriptor (not a link's or a map's).
    private static func isProgram(_ fd: Int32) -> Bool {
        var buffer = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        return length > 0 && String(cString: buffer) == "anon_inode:bpf-prog"
    }

    /// A classic tc filter pins its program at `path` (BPFLink.pin): the
    /// filter is found again on its interface's hook, by the desired
    /// state's interface, direction and priority.
    private static func classicTCFilter(at path: String, programID: UInt32, interface: String, egress: Bool, priority: UInt32?,
                                        programFD: Int32) -> Result<BPFLink, Failure> {
        guard ProgramInfo(fd: programFD)?.id == programID else {
            return .failure(.notALink("\(path) pins another program than the probe's"))
        }
        let ifindex = if_nametoindex(interface)
        guard ifindex > 0 else {
            return .failure(.notALink("the classic tc filter's interface \(interface) is gone"))
        }
        guard let filter = ClassicTCFilter.find(programFD: programFD, ifindex: Int32(ifindex), egress: egress, priority: priority) else {
            return .failure(.notALink("\(interface) has no \(egress ? "egress" : "ingress") tc filter\(priority.map { " at priority \($0)" } ?? "") running the probe's program"))
        }
        return .success(BPFLink(adopting: filter, pinnedAt: path))
    }

    private static func open(at path: String, status: stat) -> Result<BPFLink, Failure> {
        if (status.st_mode & S_IFMT) != S_IFDIR {
            guard let handle = bpf_link__open(path) else {
                return .failure(.notALink("\(path) is pinned, but not as a link (\(errnoName(currentErrno()))); bpfleetd cannot take it over: detach it, or unload the probe"))
            }
            return .success(BPFLink(handle: handle))
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .sorted { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }  // cpu2 before cpu10
        var parts: [(name: String, attachment: Attachment)] = []
        for name in names {
            guard let handle = bpf_link__open("\(path)/\(name)") else {
                let code = currentErrno()
                for part in parts { if case .libbpf(let opened) = part.attachment { bpf_link__destroy(opened) } }
                return .failure(.notALink("\(path)/\(name) is not a pinned link (\(errnoName(code)))"))
            }
            parts.append((name, .libbpf(handle)))
        }
        guard !parts.isEmpty else { return .failure(.missing) }
        return .success(BPFLink(parts: parts, pinAsDirectory: true))
    }
}

import BpfleetShared
import CLibBPF
import Foundation
import Logging
import NIOCore

/// The node's kernel state: stored objects and loaded probes. An actor whose
/// executor is a dedicated kernel thread, so verifier loads and other
/// blocking kernel calls never run on a network event loop, and every change
/// to the probes is serialized.
public actor ProbeRegistry {
    private let kernelLoop: any EventLoop
    private var store: ObjectStore
    private var probes: [String: LoadedProbe] = [:]
    private let loader: ProbeLoader
    private let attacher: Attacher
    private let logger: Logger

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        kernelLoop.executor.asUnownedSerialExecutor()
    }

    init(kernelLoop: any EventLoop, stateDirectory: String, pinRoot: String, features: KernelFeatures, logger: Logger) throws {
        self.kernelLoop = kernelLoop
        self.store = try ObjectStore(stateDirectory: stateDirectory)
        self.loader = ProbeLoader(pinRoot: pinRoot)
        self.attacher = Attacher(features: features)
        self.logger = logger
    }

    // MARK: Objects

    func upload(_ request: ObjectUpload) throws(ResponseError) -> ObjectDescription {
        guard let data = Data(base64Encoded: request.data, options: .ignoreUnknownCharacters), !request.data.isEmpty else {
            throw .invalidParams("data: not valid base64", field: "data")
        }
        let elf = Array(data)
        let objectId = ObjectStore.objectID(of: elf)
        if let existing = store.objects[objectId] { return described(existing) }
        let object = try BPFObject(elf: elf, name: "upload")
        let programs = object.describePrograms()
        guard !programs.isEmpty else {
            throw ResponseError(.invalidObject, "the object has no programs (no SEC(\"...\") functions)", data: ["libbpf": ""])
        }
        let description = ObjectDescription(
            objectId: objectId, name: request.name, size: elf.count, uploadedAt: Date(), programs: programs,
            maps: object.describeMaps(), globals: object.describeGlobals(), usedBy: [])
        let stored = try store.add(elf: elf, description: description)
        logger.info("object stored", metadata: ["objectId": "\(objectId)", "size": "\(elf.count)"])
        return described(stored)
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
        copy.usedBy = probes.values.filter { $0.objectId == description.objectId }.map(\.name).sorted()
        return copy
    }

    // MARK: Probes

    func load(_ request: ProbeLoad) throws(ResponseError) -> ProbeDescription {
        try Self.validateProbeName(request.name)
        guard probes[request.name] == nil else {
            throw .conflict("a probe named '\(request.name)' is already loaded", ["probe": .string(request.name)])
        }
        let elf = try store.elf(of: request.objectId)
        let probe = try loader.load(request, elf: elf)
        probes[request.name] = probe
        logger.info("probe loaded", metadata: ["probe": "\(request.name)", "objectId": "\(request.objectId)"])
        return probe.describe()
    }

    func attach(_ request: ProbeAttach) throws(ResponseError) -> LinkDescription {
        let probe = try probe(named: request.probe)
        let program = try probe.program(named: request.program)
        let link = try attacher.attach(program, named: request.program, to: request.target)
        let linkId = probe.nextLinkId
        let path = "\(probe.pinDirectory)/links/\(linkId)"
        guard link.pin(at: path) == 0 else {
            throw .kernel("pin link at \(path)", errno: currentErrno())
        }
        probe.nextLinkId += 1
        let description = LinkDescription(linkId: linkId, id: link.kernelID, program: request.program,
                                          target: request.target, pinPath: path, attachedAt: Date())
        probe.links[linkId] = ProbeLink(link: link, description: description)
        logger.info("link attached", metadata: ["probe": "\(request.probe)", "program": "\(request.program)", "target": "\(request.target)"])
        return description
    }

    func detach(_ request: ProbeDetach) throws(ResponseError) {
        let probe = try probe(named: request.probe)
        guard let link = probe.links.removeValue(forKey: request.linkId) else {
            throw ResponseError(.notFound, "probe '\(request.probe)' has no link \(request.linkId) (links: \(probe.links.keys.sorted().map(String.init).joined(separator: ", ")))",
                                data: ["kind": "link", "linkId": .int(Int64(request.linkId))])
        }
        link.link.unpin()
    }

    func unload(_ name: String) throws(ResponseError) {
        let probe = try probe(named: name)
        probes[name] = nil
        probe.unpinAll()
        probe.links.removeAll()
        logger.info("probe unloaded", metadata: ["probe": "\(name)"])
    }

    func describeProbes() -> [ProbeDescription] {
        probes.keys.sorted().map { probes[$0]!.describe() }
    }

    func describeProbe(_ name: String) throws(ResponseError) -> ProbeDescription {
        try probe(named: name).describe()
    }

    func maps(of probeName: String?) throws(ResponseError) -> [LoadedMap] {
        let selected = try probeName.map { name throws(ResponseError) in [try probe(named: name)] } ?? probes.keys.sorted().map { probes[$0]! }
        return selected.flatMap { probe in probe.maps.map { $0.describe(probe: probe.name) } }
    }

    /// A map and the probe that keeps its descriptor open while in use.
    func map(_ ref: MapRef) throws(ResponseError) -> (probe: LoadedProbe, map: ProbeMap) {
        switch ref {
        case .named(let probeName, let mapName):
            let probe = try probe(named: probeName)
            return (probe, try probe.map(named: mapName))
        case .id(let id):
            for probe in probes.values {
                if let map = probe.maps.first(where: { $0.info.id == id }) { return (probe, map) }
            }
            throw ResponseError(.notFound, "no probe on this node holds map id \(id)", data: ["kind": "map", "id": .int(Int64(id))])
        }
    }

    private func probe(named name: String) throws(ResponseError) -> LoadedProbe {
        guard let probe = probes[name] else { throw .notFound("probe", name) }
        return probe
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
}

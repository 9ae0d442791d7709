import BpfleetShared
import Foundation

/// One map of a probe: its descriptor (taken from its pin), its kernel
/// facts, its pin and how its entries read as JSON.
struct ProbeMap: @unchecked Sendable {
    var name: String
    var descriptor: OwnedDescriptor
    var info: MapInfo
    var io: MapIO
    var codec: MapCodec
    var keyTypeName: String?
    var valueTypeName: String?
    var pinPath: String

    func describe(probe: String) -> LoadedMap {
        LoadedMap(name: name, probe: probe, type: mapTypeName(info.type), id: info.id, keySize: info.keySize,
                  valueSize: info.valueSize, maxEntries: info.maxEntries, keyType: keyTypeName,
                  valueType: valueTypeName, pinPath: pinPath)
    }
}

/// A program of a probe: its descriptor (taken from its pin), and what
/// libbpf made of its section when the object helper opened the object,
/// which the kernel does not keep.
struct ProbeProgram: @unchecked Sendable {
    var name: String
    var descriptor: OwnedDescriptor
    var section: String
    var type: ProgramType
    var expectedAttachType: AttachType
    var pinPath: String

    var fd: Int32 { descriptor.fd }

    /// The program as Attacher takes it.
    var attachable: AttachProgram {
        AttachProgram(name: name, fd: fd, type: type, expectedAttachType: expectedAttachType, section: section)
    }
}

/// How a bpfleetd came to hold a probe (docs/state-and-pins.md).
enum ProbeOrigin: String, Sendable {
    /// A `probe.load` this process served.
    case loaded
    /// Found pinned at start-up: the same kernel objects, still running.
    case adopted
    /// Loaded again at start-up from its desired state: the pins were gone.
    case restored
}

/// A link of a probe: the owning wrapper and what it was attached to.
struct ProbeLink: @unchecked Sendable {
    var link: BPFLink
    var description: LinkDescription
}

/// A probe in the kernel: owns the descriptors of its programs, maps and
/// links, all taken from their pins (the object helper loaded and pinned
/// them; bpfleetd never loads an object itself). Dropping the last
/// reference closes every descriptor; `unpinAll` removes its bpffs pins,
/// after which nothing keeps it in the kernel.
final class LoadedProbe: @unchecked Sendable {
    let name: String
    let objectId: String
    let labels: [String: String]
    let globals: [String: JSONValue]
    /// `probe.load`'s map settings, kept in the desired state.
    let mapSettings: [String: MapSettings]
    /// `probe.load`'s map exports, kept in the desired state, and the same
    /// checked against the maps' BTF (what a scrape reads).
    let metrics: [MetricExport]
    var exports: [CompiledExport] = []
    /// When the probe was first loaded (kept across adoption and restore).
    let loadedAt: Date
    let origin: ProbeOrigin
    /// When this process adopted or restored it.
    let originAt: Date
    let pinDirectory: String
    /// The BTF its programs were loaded with, read back from the kernel
    /// (event record types are looked up there).
    let btf: KernelBTF?
    /// Loaded programs, in object order.
    let programs: [ProbeProgram]
    let maps: [ProbeMap]
    /// libbpf's USDT argument specs map, for usdt targets attached by
    /// descriptor.
    var usdtSpecs: MapIO? { maps.first { $0.name == Attacher.usdtSpecsMap }?.io }
    var links: [Int: ProbeLink] = [:]
    var nextLinkId = 1
    /// Links of the desired state that could not be attached again at
    /// start-up: the probe runs without them ("degraded"), they stay in
    /// the desired state (the next start tries again) until detached.
    var unattachedLinks: [Int: DesiredLink] = [:]
    /// Why each of `unattachedLinks` is not attached.
    var unattachedReasons: [Int: String] = [:]
    var restoreError: String?

    init(name: String, objectId: String, labels: [String: String], globals: [String: JSONValue],
         mapSettings: [String: MapSettings] = [:], metrics: [MetricExport] = [], pinDirectory: String,
         btf: KernelBTF?, programs: [ProbeProgram], maps: [ProbeMap],
         loadedAt: Date = Date(), origin: ProbeOrigin = .loaded) {
        self.mapSettings = mapSettings
        self.metrics = metrics
        self.name = name
        self.objectId = objectId
        self.labels = labels
        self.globals = globals
        self.loadedAt = loadedAt
        self.origin = origin
        self.originAt = Date()
        self.pinDirectory = pinDirectory
        self.btf = btf
        self.programs = programs
        self.maps = maps
    }

    func program(named program: String) throws(ResponseError) -> ProbeProgram {
        guard let match = programs.first(where: { $0.name == program }) else {
            throw ResponseError(.notFound, "program '\(program)' is not loaded in probe '\(name)' (programs: \(programs.map(\.name).joined(separator: ", ")))",
                                data: ["kind": "program", "name": .string(program)])
        }
        return match
    }

    func map(named map: String) throws(ResponseError) -> ProbeMap {
        guard let match = maps.first(where: { $0.name == map }) else {
            throw ResponseError(.notFound, "map '\(map)' not found in probe '\(name)' (maps: \(maps.map(\.name).joined(separator: ", ")))",
                                data: ["kind": "map", "name": .string(map)])
        }
        return match
    }

    func describe() -> ProbeDescription {
        let loaded = programs.map { program -> LoadedProgram in
            let info = ProgramInfo(fd: program.fd)
            let stats = info.map { $0.runCount > 0 || $0.runTimeNs > 0 } ?? false
            return LoadedProgram(
                name: program.name, section: program.section,
                type: programTypeName(program.type), id: info?.id ?? 0, tag: info?.tag ?? "",
                verifiedInstructions: info.flatMap { $0.verifiedInstructions == 0 ? nil : $0.verifiedInstructions },
                instructions: info?.instructions ?? 0,
                runCount: stats || RunStatistics.enabled ? info?.runCount : nil,
                runTimeNs: stats || RunStatistics.enabled ? info?.runTimeNs : nil)
        }
        return ProbeDescription(
            name: name, objectId: objectId, labels: labels, globals: globals, loadedAt: loadedAt, programs: loaded,
            maps: maps.map { $0.describe(probe: name) },
            links: linkDescriptions(),
            origin: origin.rawValue, state: restoreError == nil ? "running" : "degraded",
            adoptedAt: origin == .adopted ? originAt : nil, restoredAt: origin == .restored ? originAt : nil,
            restoreError: restoreError, mapSettings: mapSettings.isEmpty ? nil : mapSettings, metrics: metrics.isEmpty ? nil : metrics)
    }

    /// What `STATE/probes/NAME.json` keeps of this probe.
    func desiredState() -> DesiredProbe {
        DesiredProbe(
            name: name, objectId: objectId, programs: programs.map(\.name), globals: globals, labels: labels,
            loadedAt: loadedAt,
            links: (links.values.map { link in
                DesiredLink(linkId: link.description.linkId, program: link.description.program,
                            target: link.description.target, attachedAt: link.description.attachedAt)
            } + unattachedLinks.values).sorted { $0.linkId < $1.linkId },
            nextLinkId: nextLinkId, maps: mapSettings.isEmpty ? nil : mapSettings, metrics: metrics.isEmpty ? nil : metrics)
    }

    /// Removes every pin of this probe from bpffs, links first.
    func unpinAll() {
        for link in links.values {
            link.link.unpin()
            // An adopted link of several parts leaves its directory.
            if let path = link.description.pinPath { rmdir(path) }
        }
        // Links of the desired state that could not be taken over.
        for link in unattachedLinks.keys { try? FileManager.default.removeItem(atPath: "\(pinDirectory)/links/\(link)") }
        for map in maps { unlink(map.pinPath) }
        for program in programs { unlink(program.pinPath) }
        rmdir(pinDirectory + "/links")
        rmdir(pinDirectory + "/maps")
        rmdir(pinDirectory + "/programs")
        rmdir(pinDirectory)
    }
}

import BpfleetShared
import CLibBPF
import Foundation

/// One map of a loaded probe: libbpf's handle (owned by the probe's object),
/// its kernel facts, its pin and how its entries read as JSON.
struct ProbeMap: @unchecked Sendable {
    var name: String
    var handle: OpaquePointer
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

/// A link of a probe: the owning wrapper and what it was attached to.
struct ProbeLink: @unchecked Sendable {
    var link: BPFLink
    var description: LinkDescription
}

/// A probe in the kernel: owns its object (programs and maps) and its
/// links. Dropping the last reference closes every descriptor; `unpin`
/// removes its bpffs pins, after which nothing keeps it in the kernel.
final class LoadedProbe: @unchecked Sendable {
    let name: String
    let objectId: String
    let labels: [String: String]
    let globals: [String: JSONValue]
    let loadedAt: Date
    let pinDirectory: String
    let object: BPFObject
    /// Loaded programs, in object order.
    let programs: [(name: String, handle: OpaquePointer)]
    let maps: [ProbeMap]
    var links: [Int: ProbeLink] = [:]
    var nextLinkId = 1

    init(name: String, objectId: String, labels: [String: String], globals: [String: JSONValue], pinDirectory: String,
         object: BPFObject, programs: [(name: String, handle: OpaquePointer)], maps: [ProbeMap]) {
        self.name = name
        self.objectId = objectId
        self.labels = labels
        self.globals = globals
        self.loadedAt = Date()
        self.pinDirectory = pinDirectory
        self.object = object
        self.programs = programs
        self.maps = maps
    }

    func program(named program: String) throws(ResponseError) -> OpaquePointer {
        guard let match = programs.first(where: { $0.name == program }) else {
            throw ResponseError(.notFound, "program '\(program)' is not loaded in probe '\(name)' (programs: \(programs.map(\.name).joined(separator: ", ")))",
                                data: ["kind": "program", "name": .string(program)])
        }
        return match.handle
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
            let info = ProgramInfo(fd: bpf_program__fd(program.handle))
            let stats = info.map { $0.runCount > 0 || $0.runTimeNs > 0 } ?? false
            return LoadedProgram(
                name: program.name, section: String(cString: bpf_program__section_name(program.handle)),
                type: programTypeName(bpf_program__type(program.handle)), id: info?.id ?? 0, tag: info?.tag ?? "",
                verifiedInstructions: info.flatMap { $0.verifiedInstructions == 0 ? nil : $0.verifiedInstructions },
                instructions: info?.instructions ?? 0,
                runCount: stats || RunStatistics.enabled ? info?.runCount : nil,
                runTimeNs: stats || RunStatistics.enabled ? info?.runTimeNs : nil)
        }
        return ProbeDescription(
            name: name, objectId: objectId, labels: labels, globals: globals, loadedAt: loadedAt, programs: loaded,
            maps: maps.map { $0.describe(probe: name) },
            links: links.keys.sorted().map { links[$0]!.description })
    }

    /// Removes every pin of this probe from bpffs, links first.
    func unpinAll() {
        for link in links.values { link.link.unpin() }
        for map in maps { _ = bpf_map__unpin(map.handle, map.pinPath) }
        rmdir(pinDirectory + "/links")
        rmdir(pinDirectory + "/maps")
        rmdir(pinDirectory)
    }
}

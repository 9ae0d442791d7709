import BpfleetShared
import Foundation

extension LoadedProbe {
    /// Takes a probe over from its pins under `directory`: each program of
    /// `programs` at `programs/NAME`, each map of `maps` at its pin
    /// (`ProbeLoader.mapPinPath`), by descriptor; map keys and values typed
    /// through the BTF the kernel holds for each map. `expected` (the
    /// object's description) is checked against each map, when given.
    /// The reason when a pin is missing or is not what it should be.
    static func open(name: String, objectId: String, labels: [String: String], globals: [String: JSONValue],
                     mapSettings: [String: MapSettings] = [:], metrics: [MetricExport] = [], directory: String, programs facts: [ProgramFacts], maps names: [String], expected: [MapDescription]? = nil,
                     loadedAt: Date, origin: ProbeOrigin) -> Result<LoadedProbe, PinFailure> {
        var programs: [ProbeProgram] = []
        var programBTFID: UInt32 = 0
        for fact in facts {
            let path = ProbeLoader.programPinPath(fact.name, under: directory)
            guard let owned = OwnedDescriptor(pinnedAt: path) else {
                return .failure(PinFailure("program pin \(path) is missing (\(errnoName(currentErrno())))"))
            }
            guard let info = ProgramInfo(fd: owned.fd) else { return .failure(PinFailure("\(path) is not a program")) }
            if programBTFID == 0 { programBTFID = info.btfID }
            programs.append(ProbeProgram(name: fact.name, descriptor: owned, section: fact.section,
                                         type: ProgramType(rawValue: fact.type),
                                         expectedAttachType: AttachType(rawValue: fact.expectedAttachType), pinPath: path))
        }
        var btfs: [UInt32: KernelBTF] = [:]
        func btf(_ id: UInt32) -> KernelBTF? {
            if let known = btfs[id] { return known }
            let loaded = KernelBTF(id: id)
            btfs[id] = loaded
            return loaded
        }
        var maps: [ProbeMap] = []
        for mapName in names {
            let path = ProbeLoader.mapPinPath(mapName, under: directory)
            guard let owned = OwnedDescriptor(pinnedAt: path) else {
                return .failure(PinFailure("map pin \(path) is missing (\(errnoName(currentErrno())))"))
            }
            guard let info = MapInfo(fd: owned.fd) else { return .failure(PinFailure("\(path) is not a map")) }
            if let expected {
                // A value size the load set is the map's, not the object's.
                let valueSize = mapSettings[mapName]?.valueSize
                guard let described = expected.first(where: { $0.name == mapName }), described.type == mapTypeName(info.type),
                      described.keySize == info.keySize, (valueSize ?? described.valueSize) == info.valueSize else {
                    return .failure(PinFailure("\(path) is not the object's map \(mapName)"))
                }
            }
            maps.append(ProbeMap(name: mapName, descriptor: owned, info: info, btf: btf(info.btfID)?.reader, pinPath: path))
        }
        return .success(LoadedProbe(name: name, objectId: objectId, labels: labels, globals: globals, mapSettings: mapSettings, metrics: metrics,
                                    pinDirectory: directory,
                                    btf: btf(programBTFID), programs: programs, maps: maps, loadedAt: loadedAt, origin: origin))
    }

    struct PinFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

extension ProbeMap {
    /// A map by descriptor, its keys and values typed through `btf` (the
    /// BTF the kernel holds for it).
    init(name: String, descriptor: OwnedDescriptor, info: MapInfo, btf reader: BTFReader?, pinPath: String) {
        var keyType = info.btfKeyTypeID == 0 ? nil : reader?.type(info.btfKeyTypeID)
        if keyType == nil, info.isArray, info.keySize == 4 {
            keyType = .integer(size: 4, signed: false, char: false, bool: false)  // array indices
        }
        let valueType = info.btfValueTypeID == 0 ? nil : reader?.type(info.btfValueTypeID)
        let keyName = info.btfKeyTypeID == 0 ? nil : reader?.name(info.btfKeyTypeID)
        let valueName = info.btfValueTypeID == 0 ? nil : reader?.name(info.btfValueTypeID)
        let io = MapIO(fd: descriptor.fd, info: info)
        self.init(name: name, descriptor: descriptor, info: info, io: io,
                  codec: MapCodec(keySize: Int(info.keySize), valueSize: Int(info.valueSize), cpus: io.isPerCPU ? io.cpus : nil,
                                  keyType: keyType, valueType: valueType),
                  keyTypeName: keyName ?? (keyType != nil ? "__u32" : nil), valueTypeName: valueName, pinPath: pinPath)
    }
}

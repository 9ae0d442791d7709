import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// Loads one probe: opens the object, selects programs, writes globals,
/// runs the verifier, pins the maps. Either the whole probe comes back or
/// nothing of it is left in the kernel or in bpffs.
struct ProbeLoader {
    var pinRoot: String
    /// The kernel memory one probe's maps may take (--max-probe-memory).
    var memoryBudget: KernelMemoryBudget
    /// Verifier log buffer per load; the kernel fails with ENOSPC past it,
    /// and libbpf then still returns what fit.
    var logBufferSize = 16 << 20

    /// `pinDirectory` overrides `PINROOT/NAME` (a replace loads beside the
    /// probe it replaces); `reusing` names maps whose kernel map, by
    /// descriptor, the new object takes instead of creating its own
    /// (`bpf_map__reuse_fd`; the caller has checked they are compatible).
    func load(_ request: ProbeLoad, elf: [UInt8], loadedAt: Date = Date(), origin: ProbeOrigin = .loaded,
              pinDirectory: String? = nil, reusing: [String: Int32] = [:]) throws(ResponseError) -> LoadedProbe {
        let object = try BPFObject(elf: elf, name: String(request.name.prefix(15)))
        let available = object.programs.map { String(cString: bpf_program__name($0)) }

        var selected = Set(available)
        if let wanted = request.programs {
            for (index, program) in wanted.enumerated() where !available.contains(program) {
                throw ResponseError(.notFound, "program '\(program)' is not in object \(request.objectId) (programs: \(available.joined(separator: ", ")))",
                                    data: ["kind": "program", "name": .string(program), "field": .string("programs[\(index)]")])
            }
            guard !wanted.isEmpty else { throw .invalidParams("programs: name at least one program, or leave it out for all", field: "programs") }
            selected = Set(wanted)
        }
        for program in object.programs {
            bpf_program__set_autoload(program, selected.contains(String(cString: bpf_program__name(program))))
        }

        try writeGlobals(request.globals ?? [:], into: object)
        // Before the kernel allocates anything; kept maps exist already.
        try memoryBudget.check(object.budgetedMaps, reused: Set(reusing.keys))

        // Names and BTF type ids before reuse: bpf_map__reuse_fd renames the
        // map to the kernel's (truncated) name and takes the kernel's BTF ids.
        let described = object.maps.map { map in
            MapNaming(name: BPFObject.displayName(map), typeIDs: (bpf_map__btf_key_type_id(map), bpf_map__btf_value_type_id(map)),
                      typeNames: object.btfTypeNames(map))
        }
        for map in object.maps {
            guard let fd = reusing[BPFObject.displayName(map)] else { continue }
            guard bpf_map__reuse_fd(map, fd) == 0 else {
                throw .kernel("reuse map \(BPFObject.displayName(map))", errno: currentErrno())
            }
        }

        let log = UnsafeMutablePointer<CChar>.allocate(capacity: logBufferSize)
        defer { log.deallocate() }
        log[0] = 0
        for program in object.programs where bpf_program__autoload(program) {
            bpf_program__set_log_buf(program, log, logBufferSize)
        }
        bpfleet_libbpf_messages_reset()
        let rc = bpf_object__load(object.handle)
        if rc != 0 {
            let code = rc < 0 ? -rc : currentErrno()
            let verifierLog = String(cString: log)
            let messages = takeLibbpfMessages()
            let failed = object.programs.first { bpf_program__autoload($0) && bpf_program__fd($0) < 0 }
            if !verifierLog.isEmpty, let failed {
                let name = String(cString: bpf_program__name(failed))
                // The reason is at the end, before the closing statistics.
                let lines = verifierLog.split(separator: "\n", omittingEmptySubsequences: true)
                    .filter { !$0.hasPrefix("processed ") && !$0.hasPrefix("verification time") }
                let short = lines.suffix(2).joined(separator: "; ")
                throw ResponseError(
                    .verifierRejected, "the verifier rejected program '\(name)': \(short)",
                    data: ["program": .string(name), "log": .string(verifierLog), "errno": .int(Int64(code)),
                           "errnoName": .string(errnoName(code))])
            }
            if code == EPERM || code == EACCES {
                throw ResponseError(.kernelError, "the kernel refused the load: \(errnoText(code)) (bpfleetd needs CAP_BPF and CAP_PERFMON, or root)",
                                    data: ["errno": .int(Int64(code)), "errnoName": .string(errnoName(code)), "operation": "load", "libbpf": .string(messages)])
            }
            throw ResponseError(.kernelError, "loading the object failed: \(errnoText(code)) (\(errnoName(code)))\(messages.split(separator: "\n").last.map { ": \($0)" } ?? "")",
                                data: ["errno": .int(Int64(code)), "errnoName": .string(errnoName(code)), "operation": "load", "libbpf": .string(messages)])
        }

        let pinDirectory = pinDirectory ?? "\(pinRoot)/\(request.name)"
        let maps = try pinMaps(of: object, under: pinDirectory, naming: described)
        let programs = try pinPrograms(of: object, under: pinDirectory, maps: maps)
        return LoadedProbe(name: request.name, objectId: request.objectId, labels: request.labels ?? [:],
                           globals: request.globals ?? [:], pinDirectory: pinDirectory, object: object,
                           programs: programs, maps: maps, loadedAt: loadedAt, origin: origin)
    }

    /// Pins every loaded program at `DIR/programs/NAME`, so that a
    /// restarted bpfleetd finds them again (adoption); on failure removes
    /// every pin of the probe.
    private func pinPrograms(of object: BPFObject, under directory: String, maps: [ProbeMap]) throws(ResponseError) -> [ProbeProgram] {
        var pinned: [ProbeProgram] = []
        func undo() {
            for program in pinned { unlink(program.pinPath) }
            for map in maps { _ = bpf_map__unpin(map.handle, map.pinPath) }
            rmdir(directory + "/programs")
            rmdir(directory + "/maps")
            rmdir(directory + "/links")
            rmdir(directory)
        }
        guard mkdir(directory + "/programs", 0o700) == 0 else {
            let code = currentErrno()
            undo()
            throw .kernel("mkdir \(directory)/programs", errno: code)
        }
        for program in object.programs where bpf_program__fd(program) >= 0 {
            let name = String(cString: bpf_program__name(program))
            let path = "\(directory)/programs/\(name)"
            // bpf_obj_pin, not bpf_program__pin: the latter keeps the path
            // in libbpf's program and would unpin it when the object closes.
            guard bpf_obj_pin(bpf_program__fd(program), path) == 0 else {
                let code = currentErrno()
                undo()
                throw .kernel("pin program \(name) at \(path)", errno: code)
            }
            pinned.append(ProbeProgram(name: name, handle: program, pinned: nil, pinPath: path))
        }
        return pinned
    }

    /// Writes each given global into its section's initial image, which
    /// libbpf hands to the kernel at load (`.rodata` then becomes frozen).
    private func writeGlobals(_ globals: [String: JSONValue], into object: BPFObject) throws(ResponseError) {
        guard !globals.isEmpty else { return }
        let slots = object.globalSlots()
        for name in globals.keys.sorted() {
            let value = globals[name]!
            guard let slot = slots.first(where: { $0.description.name == name }) else {
                let known = slots.map(\.description.name)
                throw ResponseError(.invalidParams, "globals.\(name): the object has no such global variable (globals: \(known.isEmpty ? "none" : known.joined(separator: ", ")))",
                                    data: ["field": .string("globals.\(name)")])
            }
            var size = 0
            guard let image = bpf_map__initial_value(slot.map, &size),
                  slot.description.offset + slot.description.size <= size else {
                throw ResponseError(.internalError, "globals.\(name): the section \(slot.description.section) has no initial image")
            }
            // libbpf hands out its pre-load image as const; before load it is
            // exactly the buffer meant to be edited (what skeletons write to).
            let target = UnsafeMutableRawBufferPointer(
                start: UnsafeMutableRawPointer(mutating: image) + slot.description.offset, count: slot.description.size)
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: slot.description.size, alignment: 8)
            defer { scratch.deallocate() }
            scratch.initializeMemory(as: UInt8.self, repeating: 0)
            do throws(ValueError) {
                try ValueCodec.encode(value, as: slot.type, into: scratch, path: "globals.\(name)")
            } catch {
                throw ResponseError(.invalidParams, "\(error.path): \(error.message) (\(slot.description.type))",
                                    data: ["field": .string(error.path)])
            }
            target.copyMemory(from: UnsafeRawBufferPointer(scratch))
        }
    }

    private struct MapNaming {
        var name: String
        var typeIDs: (key: UInt32, value: UInt32)
        var typeNames: (String?, String?)
    }

    private func pinMaps(of object: BPFObject, under directory: String, naming: [MapNaming]) throws(ResponseError) -> [ProbeMap] {
        var pinned: [ProbeMap] = []
        func undo() {
            for map in pinned { _ = bpf_map__unpin(map.handle, map.pinPath) }
            rmdir(directory + "/maps")
            rmdir(directory + "/links")
            rmdir(directory)
        }
        if mkdir(directory, 0o700) != 0 {
            let code = currentErrno()
            if code == EEXIST {
                throw .conflict("pin directory \(directory) already exists (left by an earlier bpfleetd?)", ["pinPath": .string(directory)])
            }
            throw .kernel("mkdir \(directory)", errno: code)
        }
        guard mkdir(directory + "/maps", 0o700) == 0, mkdir(directory + "/links", 0o700) == 0 || errno == EEXIST else {
            let code = currentErrno()
            undo()
            throw .kernel("mkdir under \(directory)", errno: code)
        }
        let btf = object.btf
        for (index, map) in object.maps.enumerated() {
            let fd = bpf_map__fd(map)
            guard fd >= 0, let info = MapInfo(fd: fd) else { continue }
            let name = naming[index].name
            // bpffs refuses names that start with a dot: `.bss` pins as `_bss`.
            let path = Self.mapPinPath(name, under: directory)
            if bpf_map__pin(map, path) != 0 {
                let code = currentErrno()
                undo()
                throw .kernel("pin map \(name) at \(path)", errno: code)
            }
            pinned.append(Self.probeMap(map, of: object, btf: btf, name: name, info: info, pinPath: path,
                                        typeIDs: naming[index].typeIDs, typeNames: naming[index].typeNames))
        }
        return pinned
    }

    /// The pin of a map: `DIR/maps/NAME`, where bpffs's refusal of names
    /// that start with a dot makes `.bss` `_bss`.
    static func mapPinPath(_ name: String, under directory: String) -> String {
        "\(directory)/maps/\(name.hasPrefix(".") ? "_" + name.dropFirst() : Substring(name))"
    }

    /// A map of a probe: its descriptor (`bpf_map__fd`) and kernel facts,
    /// typed through the object's BTF.
    static func probeMap(_ map: OpaquePointer, of object: BPFObject, btf: BTFReader?, name: String, info: MapInfo,
                         pinPath: String, typeIDs: (key: UInt32, value: UInt32)? = nil,
                         typeNames: (String?, String?)? = nil) -> ProbeMap {
        let io = MapIO(fd: bpf_map__fd(map), info: info)
        let ids = typeIDs ?? (bpf_map__btf_key_type_id(map), bpf_map__btf_value_type_id(map))
        var keyType = btf?.type(ids.key)
        if keyType == nil, [BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY].contains(info.type), info.keySize == 4 {
            keyType = .integer(size: 4, signed: false, char: false, bool: false)  // array indices
        }
        let valueType = btf?.type(ids.value)
        let (keyName, valueName) = typeNames ?? object.btfTypeNames(map)
        return ProbeMap(
            name: name, handle: map, info: info, io: io,
            codec: MapCodec(keySize: Int(info.keySize), valueSize: Int(info.valueSize), cpus: io.isPerCPU ? io.cpus : nil,
                            keyType: keyType, valueType: valueType),
            keyTypeName: keyName ?? (keyType != nil ? "__u32" : nil), valueTypeName: valueName, pinPath: pinPath)
    }
}

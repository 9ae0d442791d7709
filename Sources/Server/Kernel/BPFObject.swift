import BpfleetShared
import CBPFSupport
import CLibBPF
import Glibc

/// An opened libbpf object (`struct bpf_object *`) and the ELF image it was
/// opened from. Owns both: deinit closes the object, which closes every
/// program and map descriptor it holds, then frees the image.
///
/// Opening parses the ELF and touches no kernel; `load` does. Not
/// thread-safe: used from one task at a time (the kernel executor).
final class BPFObject: @unchecked Sendable {
    let handle: OpaquePointer
    private let image: UnsafeMutableRawBufferPointer

    init(elf: some Collection<UInt8>, name: String) throws(KernelError) {
        guard !elf.isEmpty else { throw .invalidObject(message: "empty object", libbpf: "") }
        let image = UnsafeMutableRawBufferPointer.allocate(byteCount: elf.count, alignment: 16)
        image.copyBytes(from: elf)
        var opts = bpf_object_open_opts()
        opts.sz = MemoryLayout<bpf_object_open_opts>.size
        bpfleet_libbpf_messages_reset()
        let opened: OpaquePointer? = name.withCString { cName in
            opts.object_name = cName
            return bpf_object__open_mem(image.baseAddress, image.count, &opts)
        }
        guard let opened else {
            let code = currentErrno()
            image.deallocate()
            throw .invalidObject(message: "not a valid BPF ELF object (\(errnoName(code)))", libbpf: takeLibbpfMessages())
        }
        // libbpf 1.1 reads BTF without checking its names, references or
        // cycles; nothing here reads a type before they are checked.
        if let btf = bpf_object__btf(opened) {
            do throws(BTFProblem) {
                try BTFReader(btf: btf).validate()
            } catch {
                bpf_object__close(opened)
                image.deallocate()
                throw .invalidObject(message: "malformed BTF: \(error)", libbpf: "")
            }
        }
        self.handle = opened
        self.image = image
        dropDeclaredPinning()
    }

    deinit {
        bpf_object__close(handle)
        image.deallocate()
    }

    var btf: BTFReader? {
        bpf_object__btf(handle).map(BTFReader.init(btf:))
    }

    var programs: [OpaquePointer] {
        var result: [OpaquePointer] = []
        var current = bpf_object__next_program(handle, nil)
        while let program = current {
            result.append(program)
            current = bpf_object__next_program(handle, program)
        }
        return result
    }

    var maps: [OpaquePointer] {
        var result: [OpaquePointer] = []
        var current = bpf_object__next_map(handle, nil)
        while let map = current {
            result.append(map)
            current = bpf_object__next_map(handle, map)
        }
        return result
    }

    // MARK: Description (no kernel)

    func describePrograms() -> [ProgramDescription] {
        programs.map { program in
            let type = programTypeName(bpf_program__type(program))
            let showsAttachType = ["tracing", "lsm", "ext"].contains(type) || type.hasPrefix("cgroup") || type.hasPrefix("sk_")
            return ProgramDescription(
                name: String(cString: bpf_program__name(program)),
                section: String(cString: bpf_program__section_name(program)),
                type: type,
                attachType: showsAttachType ? attachTypeName(bpf_program__expected_attach_type(program)) : nil,
                instructions: Int(bpf_program__insn_cnt(program)))
        }
    }

    /// Every program's section and the types libbpf gave it.
    var programFacts: [ProgramFacts] {
        programs.map { program in
            ProgramFacts(name: String(cString: bpf_program__name(program)), section: String(cString: bpf_program__section_name(program)),
                         type: bpf_program__type(program).rawValue, expectedAttachType: bpf_program__expected_attach_type(program).rawValue)
        }
    }

    func describeMaps() -> [MapDescription] {
        maps.map { map in
            let (keyType, valueType) = btfTypeNames(map)
            return MapDescription(
                name: Self.displayName(map), type: mapTypeName(bpf_map__type(map)),
                keySize: bpf_map__key_size(map), valueSize: bpf_map__value_size(map),
                maxEntries: bpf_map__max_entries(map), keyType: keyType, valueType: valueType)
        }
    }

    /// Every map a load creates, as the memory budget reads it.
    var budgetedMaps: [KernelMemoryBudget.Map] {
        maps.filter { bpf_map__autocreate($0) }.map { map in
            KernelMemoryBudget.Map(
                name: Self.displayName(map), type: mapTypeName(bpf_map__type(map)), keySize: bpf_map__key_size(map),
                valueSize: bpf_map__value_size(map), maxEntries: bpf_map__max_entries(map),
                flags: bpf_map__map_flags(map), extra: bpf_map__map_extra(map))
        }
    }

    func btfTypeNames(_ map: OpaquePointer) -> (String?, String?) {
        guard let btf else { return (nil, nil) }
        let key = bpf_map__btf_key_type_id(map)
        let value = bpf_map__btf_value_type_id(map)
        return (key == 0 ? nil : btf.name(key), value == 0 ? nil : btf.name(value))
    }

    /// Variables of `.data`, `.rodata` and `.bss` that a load can set.
    func describeGlobals() -> [GlobalVariable] {
        globalSlots().map(\.description)
    }

    struct GlobalSlot {
        var map: OpaquePointer
        var description: GlobalVariable
        var type: BTFType
    }

    func globalSlots() -> [GlobalSlot] {
        guard let btf else { return [] }
        var slots: [GlobalSlot] = []
        for map in maps where bpf_map__is_internal(map) {
            let section = Self.displayName(map)
            guard [".data", ".rodata", ".bss"].contains(where: { section == $0 || section.hasPrefix($0 + ".") }) else { continue }
            let datasecID = bpf_map__btf_value_type_id(map)
            guard datasecID != 0, let datasec = btf__type_by_id(btf.btf, datasecID), btf_kind(datasec) == BTFKind.datasec.raw else { continue }
            guard let vars = btf_var_secinfos(datasec) else { continue }
            for index in 0..<Int(btf_vlen(datasec)) {
                let info = vars[index]
                // A variable whose type disagrees with its slot's size cannot be written safely.
                guard let variable = btf__type_by_id(btf.btf, info.type), let type = btf.type(info.type),
                      type.size == Int(info.size) else { continue }
                slots.append(GlobalSlot(
                    map: map,
                    description: GlobalVariable(
                        name: btf.string(at: variable.pointee.name_off),
                        section: section, type: btf.name(info.type), size: Int(info.size), offset: Int(info.offset),
                        readOnly: section.hasPrefix(".rodata")),
                    type: type))
            }
        }
        return slots
    }

    /// The name operators use: the C name of a map, or the section
    /// (`.bss`, `.rodata`) for the maps libbpf makes for globals.
    static func displayName(_ map: OpaquePointer) -> String {
        let name = String(cString: bpf_map__name(map))
        if bpf_map__is_internal(map), let dot = name.firstIndex(of: ".") {
            return String(name[dot...])
        }
        return name
    }
}

func programTypeName(_ type: bpf_prog_type) -> String {
    libbpf_bpf_prog_type_str(type).map { String(cString: $0) } ?? "unknown(\(type.rawValue))"
}

func mapTypeName(_ type: bpf_map_type) -> String {
    libbpf_bpf_map_type_str(type).map { String(cString: $0) } ?? "unknown(\(type.rawValue))"
}

func attachTypeName(_ type: bpf_attach_type) -> String {
    libbpf_bpf_attach_type_str(type).map { String(cString: $0) } ?? "unknown(\(type.rawValue))"
}

import CLibBPF

extension BTFReader {
    /// The id of the type `spelling` names, as a `recordType` gives it:
    /// `struct exec_event`, `union u`, `enum e`, or a bare name (a typedef
    /// such as `__u64`, an integer type, or a struct, union or enum tag when
    /// no typedef has that name). nil when the BTF has no such type.
    func typeID(named spelling: String) -> UInt32? {
        let words = spelling.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = words.first else { return nil }
        let tagKinds: [Substring: [BTFKind]] = [
            "struct": [.structure], "union": [.union], "enum": [.enumeration, .enum64],
        ]
        let name: String
        let kinds: [BTFKind]
        if let tagged = tagKinds[first] {
            guard words.count == 2 else { return nil }
            name = String(words[1])
            kinds = tagged
        } else {
            // `__u64`, `unsigned int`, or a tag without its keyword.
            name = words.joined(separator: " ")
            kinds = [.typedef, .integer, .float, .structure, .union, .enumeration, .enum64]
        }
        for kind in kinds {
            let id = btf__find_by_name_kind(btf, name, UInt32(kind.rawValue))
            if id > 0 { return UInt32(id) }
        }
        return nil
    }

    /// The resolved type `spelling` names (see `typeID(named:)`).
    func type(named spelling: String) -> BTFType? {
        typeID(named: spelling).flatMap(type)
    }
}

extension BTFReader {
    /// The named structs of this BTF, as `struct NAME`, sorted, less those
    /// the kernel's own BTF names: in an object, the structs it defines
    /// itself (a record type), not the kernel's it reads through CO-RE
    /// (`task_struct` brings a hundred more along).
    func ownStructTypes(kernel: Set<String> = KernelStructNames.all) -> [String] {
        var names: Set<String> = []
        let count = btf__type_cnt(btf)
        var id: UInt32 = 1
        while id < count {
            defer { id += 1 }
            guard let t = btf__type_by_id(btf, id), btf_kind(t) == BTFKind.structure.raw, t.pointee.size > 0 else { continue }
            let name = string(at: t.pointee.name_off)
            if !name.isEmpty, !kernel.contains(name) { names.insert("struct " + name) }
        }
        return names.sorted()
    }
}

/// The names of the running kernel's structs (vmlinux BTF), read once;
/// empty on a kernel without BTF.
enum KernelStructNames {
    static let all: Set<String> = {
        guard let btf = btf__load_vmlinux_btf() else { return [] }
        defer { btf__free(btf) }
        let reader = BTFReader(btf: btf)
        var names: Set<String> = []
        let count = btf__type_cnt(btf)
        var id: UInt32 = 1
        while id < count {
            defer { id += 1 }
            guard let t = btf__type_by_id(btf, id), btf_kind(t) == BTFKind.structure.raw else { continue }
            names.insert(reader.string(at: t.pointee.name_off))
        }
        return names
    }()
}

/// The end of a refusal of an unknown `recordType`: the struct types the
/// object defines, which it likely meant.
enum RecordTypeNames {
    static func hint(_ reader: BTFReader?) -> String {
        guard let reader else { return " (the object has no BTF)" }
        let own = reader.ownStructTypes()
        return own.isEmpty ? " (the object defines no struct types)" : " (the object's struct types: \(own.joined(separator: ", ")))"
    }
}

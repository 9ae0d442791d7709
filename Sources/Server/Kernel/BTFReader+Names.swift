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

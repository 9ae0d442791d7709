import CLibBPF
import Glibc

/// Reads BTF types through libbpf into the pure `BTFType` model.
///
/// The BTF comes from an uploaded object, so nothing in it is trusted:
/// - a name at an offset libbpf cannot resolve reads as empty;
/// - each type id is resolved once and remembered, so a type reached
///   along many paths costs one resolution (no exponential walk);
/// - a type met again while it is being resolved (a struct that contains
///   itself, a cycle of pointers through qualifiers) is opaque there, and
///   nesting deeper than `maxDepth` is opaque, so recursion is bounded;
/// - a type whose parts do not lie inside it (a member past the end of
///   its struct, an array whose size overflows) or whose expansion is
///   larger than `maxNodes` is opaque.
///
/// What comes out therefore keeps the codec's invariant (every member and
/// element lies inside its parent) and costs at most `maxNodes` to walk.
struct BTFReader {
    /// libbpf's `struct btf *`, owned elsewhere (by the object or the caller).
    let btf: OpaquePointer
    private let memo = Memo()

    /// Deeper than any C type a program declares (the kernel's own BTF
    /// nests under 20); what lies below is shown as hex.
    static let maxDepth = 32
    /// Nodes one resolved type may expand to (array elements counted once
    /// per element), bounding every later walk of it by the value codec.
    static let maxNodes = 1 << 20
    /// The largest size a type may have: the kernel's own bound on a map
    /// value (KMALLOC_MAX_SIZE is far below) and on a BTF type (u32).
    static let maxSize = Int(UInt32.max)

    init(btf: OpaquePointer) {
        self.btf = btf
    }

    private final class Memo {
        var resolved: [UInt32: Resolved] = [:]
        var resolving: Set<UInt32> = []
    }

    private struct Resolved {
        var type: BTFType
        /// Nodes of the expanded tree, saturating at `maxNodes + 1`.
        var nodes: Int
    }

    func type(_ id: UInt32) -> BTFType? {
        guard id != 0 else { return nil }
        return resolve(id, depth: 0)?.type
    }

    /// The string at `offset` of the BTF's string section; empty where
    /// there is none.
    func string(at offset: UInt32) -> String {
        let text: UnsafePointer<CChar>? = btf__name_by_offset(btf, offset)
        return text.map { String(cString: $0) } ?? ""
    }

    /// A type's own name, nil when it has none (or there is no such type).
    func plainName(_ id: UInt32) -> String? {
        guard id != 0, let t = btf__type_by_id(btf, id) else { return nil }
        let name = string(at: t.pointee.name_off)
        return name.isEmpty ? nil : name
    }

    /// A type's C spelling, for descriptions: `struct exec_record`, `__u64`,
    /// `char[16]`. Walks at most `maxDepth` pointers, arrays and qualifiers.
    func name(_ id: UInt32) -> String {
        var prefix = ""
        var suffix = ""
        var current = id
        for _ in 0..<Self.maxDepth {
            guard current != 0, let t = btf__type_by_id(btf, current) else { return prefix + "void" + suffix }
            let name = string(at: t.pointee.name_off)
            switch BTFKind(rawValue: Int(btf_kind(t))) {
            case .structure: return prefix + (name.isEmpty ? "struct {...}" : "struct \(name)") + suffix
            case .union: return prefix + (name.isEmpty ? "union {...}" : "union \(name)") + suffix
            case .enumeration, .enum64: return prefix + (name.isEmpty ? "enum {...}" : "enum \(name)") + suffix
            case .pointer:
                suffix = " *" + suffix
                current = t.pointee.type
            case .array:
                guard let array = btf_array(t)?.pointee else { return prefix + "?" + suffix }
                suffix = "[\(array.nelems)]" + suffix
                current = array.type
            case .const:
                prefix += "const "
                current = t.pointee.type
            case .volatile:
                prefix += "volatile "
                current = t.pointee.type
            case .variable, .restrict, .typeTag:
                current = t.pointee.type
            default:
                return prefix + (name.isEmpty ? "?" : name) + suffix
            }
        }
        return prefix + "..." + suffix
    }

    private func resolve(_ id: UInt32, depth: Int) -> Resolved? {
        guard depth < Self.maxDepth else { return nil }
        // libbpf follows typedefs, qualifiers and variables itself, with a
        // depth limit of its own (-ELOOP past it).
        let resolvedID = btf__resolve_type(btf, id)
        guard resolvedID > 0, let t = btf__type_by_id(btf, UInt32(resolvedID)) else { return nil }
        let key = UInt32(resolvedID)
        if let known = memo.resolved[key] { return known }
        guard memo.resolving.insert(key).inserted else { return nil }  // contains itself
        defer { memo.resolving.remove(key) }
        let result = build(t, depth: depth)
        memo.resolved[key] = result
        return result
    }

    /// The resolved type of a member, element or variable: opaque (shown
    /// as hex) when it cannot be resolved but its size is known.
    private func part(_ id: UInt32, depth: Int) -> Resolved {
        if let resolved = resolve(id, depth: depth + 1) { return resolved }
        let size = Int(btf__resolve_size(btf, id))
        return Resolved(type: .opaque(size: (0...Self.maxSize).contains(size) ? size : 0), nodes: 1)
    }

    private func build(_ t: UnsafePointer<btf_type>, depth: Int) -> Resolved {
        let name = string(at: t.pointee.name_off)
        let size = sizeOf(t)
        let opaque = Resolved(type: .opaque(size: size), nodes: 1)
        let vlen = Int(btf_vlen(t))
        switch BTFKind(rawValue: Int(btf_kind(t))) {
        case .integer:
            guard [1, 2, 4, 8, 16].contains(size) else { return opaque }
            let encoding = Int32(btf_int_encoding(t))
            let isChar = encoding & 2 != 0 || name == "char" || name == "signed char" || name == "unsigned char"
            return Resolved(type: .integer(size: size, signed: encoding & 1 != 0, char: isChar && size == 1,
                                           bool: encoding & 4 != 0), nodes: 1)
        case .float:
            return Resolved(type: .float(size: size), nodes: 1)
        case .pointer:
            return Resolved(type: .pointer(size: MemoryLayout<UInt>.size), nodes: 1)
        case .array:
            guard let array = btf_array(t)?.pointee else { return opaque }
            let element = part(array.type, depth: depth)
            let count = Int(array.nelems)
            let (bytes, overflow) = element.type.size.multipliedReportingOverflow(by: count)
            guard !overflow, bytes <= Self.maxSize else { return opaque }
            let (nodes, tooMany) = element.nodes.multipliedReportingOverflow(by: count)
            guard !tooMany, nodes < Self.maxNodes else { return Resolved(type: .opaque(size: bytes), nodes: 1) }
            return Resolved(type: .array(element: element.type, count: count), nodes: nodes + 1)
        case .structure, .union:
            guard let members = btf_members(t) else { return opaque }
            var result: [BTFMember] = []
            var nodes = 1
            for index in 0..<vlen {
                let member = members[index]
                let memberType = part(member.type, depth: depth)
                let bitOffset = Int(btf_member_bit_offset(t, UInt32(index)))
                let bitfieldSize = Int(btf_member_bitfield_size(t, UInt32(index)))
                // Every member lies inside the struct: the codec relies on it.
                let fits = bitfieldSize > 0
                    ? bitfieldSize <= 64 && bitOffset + bitfieldSize <= size * 8
                    : bitOffset / 8 + memberType.type.size <= size
                guard fits else { return opaque }
                nodes += memberType.nodes
                guard nodes < Self.maxNodes else { return opaque }
                result.append(BTFMember(name: string(at: member.name_off), type: memberType.type,
                                        bitOffset: bitOffset, bitfieldSize: bitfieldSize))
            }
            return Resolved(type: btf_kind(t) == BTFKind.structure.raw
                                ? .structure(name: name, size: size, members: result)
                                : .union(name: name, size: size, members: result),
                            nodes: nodes)
        case .enumeration:
            guard [1, 2, 4, 8].contains(size), let values = btf_enum(t) else { return opaque }
            let signed = btf_kflag(t)
            let cases = (0..<vlen).map { index in
                BTFEnumCase(name: string(at: values[index].name_off),
                            value: signed ? Int64(values[index].val) : Int64(UInt32(bitPattern: values[index].val)))
            }
            return Resolved(type: .enumeration(name: name, size: size, signed: signed, cases: cases), nodes: 1)
        case .enum64:
            guard [1, 2, 4, 8].contains(size), let values = btf_enum64(t) else { return opaque }
            let cases = (0..<vlen).map { index in
                BTFEnumCase(name: string(at: values[index].name_off),
                            value: Int64(bitPattern: UInt64(values[index].val_hi32) << 32 | UInt64(values[index].val_lo32)))
            }
            return Resolved(type: .enumeration(name: name, size: size, signed: btf_kflag(t), cases: cases), nodes: 1)
        case .datasec:
            // A .data/.rodata/.bss map's value: its variables, as a struct.
            guard let vars = btf_var_secinfos(t) else { return opaque }
            var members: [BTFMember] = []
            var end = 0
            var nodes = 1
            for index in 0..<vlen {
                let info = vars[index]
                guard let variable = btf__type_by_id(btf, info.type) else { continue }
                let offset = Int(info.offset)
                let declared = Int(info.size)
                var varType = part(info.type, depth: depth)
                if varType.type.size != declared { varType = Resolved(type: .opaque(size: declared), nodes: 1) }
                nodes += varType.nodes
                guard nodes < Self.maxNodes else { return opaque }
                members.append(BTFMember(name: string(at: variable.pointee.name_off), type: varType.type, bitOffset: offset * 8))
                end = max(end, offset + declared)
            }
            guard max(size, end) <= Self.maxSize else { return opaque }
            return Resolved(type: .structure(name: name, size: max(size, end), members: members), nodes: nodes)
        default:
            return opaque
        }
    }

    /// The size BTF gives a resolved type: 0 when libbpf cannot tell (or
    /// it is out of range).
    private func sizeOf(_ t: UnsafePointer<btf_type>) -> Int {
        switch BTFKind(rawValue: Int(btf_kind(t))) {
        case .integer, .float, .structure, .union, .enumeration, .enum64, .datasec:
            let size = Int(t.pointee.size)
            return size <= Self.maxSize ? size : 0
        case .pointer:
            return MemoryLayout<UInt>.size
        default:
            return 0
        }
    }
}

/// BTF kinds, by their ABI numbers (include/uapi/linux/btf.h).
enum BTFKind: Int {
    case integer = 1, pointer, array, structure, union, enumeration, forward, typedef, volatile, const, restrict
    case function, functionPrototype, variable, datasec, float, declTag, typeTag, enum64

    var raw: UInt16 { UInt16(rawValue) }
}

import CLibBPF
import Glibc

/// Reads BTF types through libbpf into the pure `BTFType` model.
struct BTFReader {
    /// libbpf's `struct btf *`, owned elsewhere (by the object or the caller).
    let btf: OpaquePointer

    func type(_ id: UInt32) -> BTFType? {
        guard id != 0 else { return nil }
        return resolve(id, depth: 0)
    }

    /// A type's C spelling, for descriptions: `struct exec_record`, `__u64`, `char[16]`.
    func name(_ id: UInt32) -> String {
        guard id != 0, let t = btf__type_by_id(btf, id) else { return "void" }
        let name = String(cString: btf__name_by_offset(btf, t.pointee.name_off))
        switch BTFKind(rawValue: Int(btf_kind(t))) {
        case .structure: return name.isEmpty ? "struct {...}" : "struct \(name)"
        case .union: return name.isEmpty ? "union {...}" : "union \(name)"
        case .enumeration, .enum64: return name.isEmpty ? "enum {...}" : "enum \(name)"
        case .pointer: return "\(self.name(t.pointee.type)) *"
        case .array:
            let array = btf_array(t)!.pointee
            return "\(self.name(array.type))[\(array.nelems)]"
        case .const: return "const \(self.name(t.pointee.type))"
        case .volatile: return "volatile \(self.name(t.pointee.type))"
        case .variable, .restrict, .typeTag: return self.name(t.pointee.type)
        default: return name.isEmpty ? "?" : name
        }
    }

    private func resolve(_ id: UInt32, depth: Int) -> BTFType? {
        guard depth < 64 else { return nil }
        let resolved = btf__resolve_type(btf, id)
        guard resolved > 0, let t = btf__type_by_id(btf, UInt32(resolved)) else { return nil }
        let name = String(cString: btf__name_by_offset(btf, t.pointee.name_off))
        let size = Int(btf__resolve_size(btf, UInt32(resolved)))
        switch BTFKind(rawValue: Int(btf_kind(t))) {
        case .integer:
            let encoding = Int32(btf_int_encoding(t))
            let isChar = encoding & 2 != 0 || name == "char" || name == "signed char" || name == "unsigned char"
            return .integer(size: size, signed: encoding & 1 != 0, char: isChar && size == 1,
                            bool: encoding & 4 != 0)
        case .float:
            return .float(size: size)
        case .pointer:
            return .pointer(size: MemoryLayout<UInt>.size)
        case .array:
            let array = btf_array(t)!.pointee
            guard let element = resolve(array.type, depth: depth + 1) else { return .opaque(size: max(size, 0)) }
            return .array(element: element, count: Int(array.nelems))
        case .structure, .union:
            let members = btf_members(t)!
            var result: [BTFMember] = []
            for index in 0..<Int(btf_vlen(t)) {
                let member = members[index]
                let memberType = resolve(member.type, depth: depth + 1) ?? .opaque(size: 0)
                result.append(BTFMember(
                    name: String(cString: btf__name_by_offset(btf, member.name_off)),
                    type: memberType,
                    bitOffset: Int(btf_member_bit_offset(t, UInt32(index))),
                    bitfieldSize: Int(btf_member_bitfield_size(t, UInt32(index)))))
            }
            return btf_kind(t) == BTFKind.structure.raw
                ? .structure(name: name, size: size, members: result)
                : .union(name: name, size: size, members: result)
        case .enumeration:
            let values = btf_enum(t)!
            let signed = btf_kflag(t)
            let cases = (0..<Int(btf_vlen(t))).map { index in
                BTFEnumCase(name: String(cString: btf__name_by_offset(btf, values[index].name_off)),
                            value: signed ? Int64(values[index].val) : Int64(UInt32(bitPattern: values[index].val)))
            }
            return .enumeration(name: name, size: size, signed: signed, cases: cases)
        case .enum64:
            let values = btf_enum64(t)!
            let cases = (0..<Int(btf_vlen(t))).map { index in
                BTFEnumCase(name: String(cString: btf__name_by_offset(btf, values[index].name_off)),
                            value: Int64(bitPattern: UInt64(values[index].val_hi32) << 32 | UInt64(values[index].val_lo32)))
            }
            return .enumeration(name: name, size: size, signed: btf_kflag(t), cases: cases)
        case .datasec:
            // A .data/.rodata/.bss map's value: its variables, as a struct.
            let vars = btf_var_secinfos(t)!
            var members: [BTFMember] = []
            var end = 0
            for index in 0..<Int(btf_vlen(t)) {
                let info = vars[index]
                guard let variable = btf__type_by_id(btf, info.type) else { continue }
                let varName = String(cString: btf__name_by_offset(btf, variable.pointee.name_off))
                let varType = resolve(info.type, depth: depth + 1) ?? .opaque(size: Int(info.size))
                members.append(BTFMember(name: varName, type: varType, bitOffset: Int(info.offset) * 8))
                end = max(end, Int(info.offset + info.size))
            }
            return .structure(name: name, size: max(size, end), members: members)
        default:
            return .opaque(size: max(size, 0))
        }
    }
}

/// BTF kinds, by their ABI numbers (include/uapi/linux/btf.h).
enum BTFKind: Int {
    case integer = 1, pointer, array, structure, union, enumeration, forward, typedef, volatile, const, restrict
    case function, functionPrototype, variable, datasec, float, declTag, typeTag, enum64

    var raw: UInt16 { UInt16(rawValue) }
}

import BpfleetShared

/// Where a member of a map's key or value lies and how it reads: what a
/// map export's `field`, `value` and `sum` paths resolve to through the
/// map's BTF.
struct ExportField: Sendable, Hashable {
    enum Shape: Sendable, Hashable {
        case integer(signed: Bool)
        /// An enum: its cases by value.
        case enumeration(signed: Bool, cases: [Int64: String])
        /// `char[N]`: text up to the first NUL.
        case chars
        /// Anything else (a struct, an array of non-chars, a float): its
        /// bytes, which only the address decoders take.
        case bytes
    }

    /// Where its bits are: plain data, read per entry.
    var location: FieldLocation
    var shape: Shape
    /// The C spelling of its type, for messages.
    var typeName: String

    init(offset: Int, size: Int, bitOffset: Int = 0, bitWidth: Int = 0, shape: Shape, typeName: String) {
        self.shape = shape
        self.typeName = typeName
        let signed: Bool
        switch shape {
        case .integer(let isSigned), .enumeration(let isSigned, _): signed = isSigned
        case .chars, .bytes: signed = false
        }
        location = FieldLocation(offset: offset, size: size, bitOffset: bitOffset, bitWidth: bitWidth, signed: signed)
    }

    var offset: Int { location.offset }
    var size: Int { location.size }
    var bitOffset: Int { location.bitOffset }
    var bitWidth: Int { location.bitWidth }
    var isSigned: Bool { location.signed }

    var isInteger: Bool {
        switch shape {
        case .integer, .enumeration: true
        case .chars, .bytes: false
        }
    }

    func raw(_ bytes: UnsafeRawBufferPointer) -> UInt64 { location.raw(bytes) }
    func bytes(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer { location.bytes(bytes) }

    /// Resolves `path` (nil: the whole of `type`) in `type`; `what` names
    /// the key or value in messages ("the key of map 'counts'").
    static func resolve(_ path: String?, in type: BTFType, what: String) throws(ExportFieldError) -> (field: ExportField, type: BTFType) {
        var current = type
        var offset = 0
        var bitOffset = 0
        var bitWidth = 0
        var walked: [Substring] = []
        for part in (path ?? "").split(separator: ".", omittingEmptySubsequences: true) {
            let members: [BTFMember]
            switch current {
            case .structure(_, _, let list), .union(_, _, let list): members = list
            default:
                let at = walked.isEmpty ? what : "\(what)'s member '\(walked.joined(separator: "."))'"
                throw ExportFieldError("\(at) is \(spelling(current)), which has no members ('\(part)' asked for)")
            }
            guard let member = members.first(where: { $0.name == part }) else {
                let at = walked.isEmpty ? "\(what) (\(spelling(current)))" : "member '\(walked.joined(separator: "."))' of \(what)"
                throw ExportFieldError("\(at) has no member '\(part)' (members: \(members.map(\.name).filter { !$0.isEmpty }.joined(separator: ", ")))")
            }
            if member.bitfieldSize > 0 {
                bitOffset = offset * 8 + member.bitOffset
                bitWidth = member.bitfieldSize
            } else {
                offset += member.bitOffset / 8
            }
            current = member.type
            walked.append(part)
        }
        let shape: Shape
        switch current {
        case .integer(_, let signed, _, _): shape = .integer(signed: signed)
        case .pointer: shape = .integer(signed: false)
        case .enumeration(_, _, let signed, let cases):
            var byValue: [Int64: String] = [:]
            for item in cases where byValue[item.value] == nil { byValue[item.value] = item.name }
            shape = .enumeration(signed: signed, cases: byValue)
        case .array where current.isCharArray: shape = .chars
        default: shape = .bytes
        }
        if bitWidth == 0, shape != .chars, shape != .bytes, ![1, 2, 4, 8].contains(current.size) {
            throw ExportFieldError("\(what): \(path ?? "the whole") is a \(current.size)-byte integer; integers of 1, 2, 4 or 8 bytes can be read")
        }
        // The kernel checks a map's BTF; this holds even if it did not.
        guard bitWidth > 0 ? bitOffset + bitWidth <= type.size * 8 : offset + current.size <= type.size else {
            throw ExportFieldError("\(what): \(path ?? "the whole") lies past the end of its \(type.size) bytes")
        }
        let field = ExportField(offset: offset, size: current.size, bitOffset: bitOffset, bitWidth: bitWidth, shape: shape,
                                typeName: spelling(current))
        return (field, current)
    }

    /// A type in a few words, for messages.
    static func spelling(_ type: BTFType) -> String {
        switch type {
        case .integer(let size, let signed, let char, let bool):
            bool ? "a bool" : char ? "a char" : "\(signed ? "a signed" : "an unsigned") \(size * 8)-bit integer"
        case .float(let size): "a \(size * 8)-bit float"
        case .pointer: "a pointer"
        case .array(let element, let count): "an array of \(count) \(spelling(element).dropFirst(spelling(element).hasPrefix("an ") ? 3 : 2))"
        case .structure(let name, _, _): name.isEmpty ? "a struct" : "struct \(name)"
        case .union(let name, _, _): name.isEmpty ? "a union" : "union \(name)"
        case .enumeration(let name, _, _, _): name.isEmpty ? "an enum" : "enum \(name)"
        case .opaque(let size): "\(size) bytes of no known type"
        }
    }
}

struct ExportFieldError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Where a member's bits lie in a key or value, and whether it is signed.
struct FieldLocation: Sendable, Hashable {
    /// Byte offset of the member in the key or value.
    var offset: Int
    /// Its size in bytes (of the storage unit, for a bitfield).
    var size: Int
    /// A bitfield's bit offset from the start of the key or value, and its
    /// width; width 0 when not one.
    var bitOffset: Int
    var bitWidth: Int
    var signed: Bool

    /// The member's bits as an unsigned number (sign-extended bits for a
    /// signed one).
    @inline(__always)
    func raw(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        if bitWidth > 0 {
            let value = ValueCodec.readBits(bytes, bitOffset: bitOffset, width: bitWidth)
            if signed, bitWidth < 64, value & (1 << UInt64(bitWidth - 1)) != 0 { return value | (~0 << UInt64(bitWidth)) }
            return value
        }
        guard offset + size <= bytes.count,
              let value = ValueCodec.readInteger(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)]), size: size) else { return 0 }
        return signed ? UInt64(bitPattern: ValueCodec.signExtend(value, size: size)) : value
    }

    /// The member's bytes (not for a bitfield).
    func bytes(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard offset + size <= bytes.count else { return UnsafeRawBufferPointer(rebasing: bytes[0..<0]) }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)])
    }
}

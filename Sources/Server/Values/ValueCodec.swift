import BpfleetShared

/// Why a JSON value does not fit a BTF type; `path` names the field.
public struct ValueError: Error, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// Converts map keys, values and globals between their bytes and JSON,
/// guided by BTF (docs/values.md): integers as exact numbers, `char[]`
/// as strings, structs as objects, arrays as arrays, enums by name.
public enum ValueCodec {
    // MARK: bytes -> JSON

    public static func write(_ type: BTFType, _ bytes: UnsafeRawBufferPointer, to out: inout JSONWriter) {
        switch type {
        case .integer(let size, let signed, _, let isBool):
            guard let raw = readInteger(bytes, size: size) else { return out.hexString(bytes) }
            if isBool { return out.bool(raw != 0) }
            if signed { out.int(signExtend(raw, size: size)) } else { out.uint(raw) }
        case .float(let size):
            switch size {
            case 4: out.float(Float(bitPattern: UInt32(truncatingIfNeeded: readInteger(bytes, size: 4) ?? 0)))
            case 8: out.double(Double(bitPattern: readInteger(bytes, size: 8) ?? 0))
            default: out.hexString(bytes)
            }
        case .pointer(let size):
            out.uint(readInteger(bytes, size: size) ?? 0)
        case .array(let element, let count):
            if type.isCharArray, writeCString(UnsafeRawBufferPointer(rebasing: bytes.prefix(count)), to: &out) { return }
            let stride = element.size
            out.byte(UInt8(ascii: "["))
            for index in 0..<count {
                if index > 0 { out.byte(UInt8(ascii: ",")) }
                write(element, UnsafeRawBufferPointer(rebasing: bytes[(index * stride)..<((index + 1) * stride)]), to: &out)
            }
            out.byte(UInt8(ascii: "]"))
        case .structure(_, _, let members), .union(_, _, let members):
            out.byte(UInt8(ascii: "{"))
            var first = true
            for member in members {
                if !first { out.byte(UInt8(ascii: ",")) }
                first = false
                out.string(member.name)
                out.byte(UInt8(ascii: ":"))
                writeMember(member, bytes, to: &out)
            }
            out.byte(UInt8(ascii: "}"))
        case .enumeration(_, let size, let signed, let cases):
            guard let raw = readInteger(bytes, size: size) else { return out.hexString(bytes) }
            let value = signed ? signExtend(raw, size: size) : Int64(bitPattern: raw)
            if let match = cases.first(where: { $0.value == value }) {
                out.string(match.name)
            } else if signed {
                out.int(value)
            } else {
                out.uint(raw)
            }
        case .opaque:
            out.hexString(bytes)
        }
    }

    private static func writeMember(_ member: BTFMember, _ bytes: UnsafeRawBufferPointer, to out: inout JSONWriter) {
        if member.bitfieldSize > 0 {
            let raw = readBits(bytes, bitOffset: member.bitOffset, width: member.bitfieldSize)
            var signed = false
            if case .integer(_, let isSigned, _, _) = member.type { signed = isSigned }
            if case .enumeration(_, _, let isSigned, _) = member.type { signed = isSigned }
            let value = signed && member.bitfieldSize < 64 && raw & (1 << (member.bitfieldSize - 1)) != 0
                ? Int64(bitPattern: raw | (~0 << member.bitfieldSize)) : Int64(bitPattern: raw)
            if case .enumeration(_, _, _, let cases) = member.type, let match = cases.first(where: { $0.value == value }) {
                out.string(match.name)
            } else if signed, value < 0 {
                out.int(value)
            } else if case .integer(_, _, _, true) = member.type {
                out.bool(raw != 0)
            } else {
                out.uint(raw)
            }
            return
        }
        let start = member.bitOffset / 8
        let end = start + member.type.size
        guard end <= bytes.count else { return out.raw("null") }
        write(member.type, UnsafeRawBufferPointer(rebasing: bytes[start..<end]), to: &out)
    }

    /// A `char[]` holding text up to its first NUL and zeros after it is
    /// written as a string; anything else falls back to an array of numbers.
    private static func writeCString(_ bytes: UnsafeRawBufferPointer, to out: inout JSONWriter) -> Bool {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        guard bytes[end...].allSatisfy({ $0 == 0 }) else { return false }
        let text = UnsafeRawBufferPointer(rebasing: bytes[..<end])
        guard String(validating: text, as: UTF8.self) != nil else { return false }
        out.string(utf8: text)
        return true
    }

    @inline(__always)
    static func readInteger(_ bytes: UnsafeRawBufferPointer, size: Int) -> UInt64? {
        guard bytes.count >= size else { return nil }
        switch size {
        case 1: return UInt64(bytes[0])
        case 2: return UInt64(UInt16(littleEndian: bytes.loadUnaligned(as: UInt16.self)))
        case 4: return UInt64(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
        case 8: return UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        default: return nil
        }
    }

    @inline(__always)
    static func signExtend(_ raw: UInt64, size: Int) -> Int64 {
        switch size {
        case 1: Int64(Int8(truncatingIfNeeded: raw))
        case 2: Int64(Int16(truncatingIfNeeded: raw))
        case 4: Int64(Int32(truncatingIfNeeded: raw))
        default: Int64(bitPattern: raw)
        }
    }

    static func readBits(_ bytes: UnsafeRawBufferPointer, bitOffset: Int, width: Int) -> UInt64 {
        var result: UInt64 = 0
        for bit in 0..<width {
            let position = bitOffset + bit
            guard position / 8 < bytes.count else { break }
            if bytes[position / 8] & (1 << UInt8(position % 8)) != 0 { result |= 1 << UInt64(bit) }
        }
        return result
    }

    // MARK: JSON -> bytes

    /// Encodes `value` as `type` into `out`, which must be `type.size`
    /// bytes and zeroed: members and elements left out stay zero.
    public static func encode(_ value: JSONValue, as type: BTFType, into out: UnsafeMutableRawBufferPointer,
                              path: String) throws(ValueError) {
        switch type {
        case .integer(let size, let signed, _, let isBool):
            var raw: UInt64
            if isBool, case .bool(let flag) = value {
                raw = flag ? 1 : 0
            } else {
                raw = try integerBits(value, size: size, signed: signed, path: path)
                if isBool, raw > 1 { throw ValueError(path: path, message: "a bool is true, false, 0 or 1") }
            }
            writeInteger(raw, size: size, into: out)
        case .float(let size):
            let number: Double
            switch value {
            case .double(let v): number = v
            case .int(let v): number = Double(v)
            case .uint(let v): number = Double(v)
            default: throw ValueError(path: path, message: "expected a number, got \(value.typeName)")
            }
            if size == 4 { writeInteger(UInt64(Float(number).bitPattern), size: 4, into: out) }
            else if size == 8 { writeInteger(number.bitPattern, size: 8, into: out) }
            else { throw ValueError(path: path, message: "\(size)-byte floats are not supported") }
        case .pointer(let size):
            writeInteger(try integerBits(value, size: size, signed: false, path: path), size: size, into: out)
        case .array(let element, let count):
            if type.isCharArray, case .string(let text) = value {
                let utf8 = Array(text.utf8)
                guard utf8.count <= count else {
                    throw ValueError(path: path, message: "string of \(utf8.count) bytes does not fit char[\(count)]")
                }
                for (index, byte) in utf8.enumerated() { out[index] = byte }
                return
            }
            guard case .array(let elements) = value else {
                throw ValueError(path: path, message: "expected an array of \(count), got \(value.typeName)")
            }
            guard elements.count <= count else {
                throw ValueError(path: path, message: "\(elements.count) elements do not fit an array of \(count)")
            }
            let stride = element.size
            for (index, item) in elements.enumerated() {
                try encode(item, as: element, into: UnsafeMutableRawBufferPointer(rebasing: out[(index * stride)..<((index + 1) * stride)]),
                           path: "\(path)[\(index)]")
            }
        case .structure(let name, _, let members), .union(let name, _, let members):
            guard case .object(let fields) = value else {
                throw ValueError(path: path, message: "expected an object for \(name.isEmpty ? "a struct" : "struct \(name)"), got \(value.typeName)")
            }
            for key in fields.keys.sorted() where !members.contains(where: { $0.name == key }) {
                throw ValueError(path: "\(path).\(key)", message: "no such field (fields: \(members.map(\.name).joined(separator: ", ")))")
            }
            if case .union = type, fields.count > 1 {
                throw ValueError(path: path, message: "a union takes one field")
            }
            for member in members {
                guard let field = fields[member.name] else { continue }
                try encodeMember(member, field, into: out, path: "\(path).\(member.name)")
            }
        case .enumeration(let name, let size, let signed, let cases):
            if case .string(let caseName) = value, integer(caseName) == nil {
                guard let match = cases.first(where: { $0.name == caseName }) else {
                    throw ValueError(path: path, message: "'\(caseName)' is not a case of enum \(name) (cases: \(cases.map(\.name).joined(separator: ", ")))")
                }
                writeInteger(UInt64(bitPattern: match.value), size: size, into: out)
            } else {
                writeInteger(try integerBits(value, size: size, signed: signed, path: path), size: size, into: out)
            }
        case .opaque(let size):
            guard case .string(let hex) = value, let bytes = Hex.decode(hex), bytes.count == size else {
                throw ValueError(path: path, message: "expected a hex string of \(size) bytes")
            }
            for (index, byte) in bytes.enumerated() { out[index] = byte }
        }
    }

    private static func encodeMember(_ member: BTFMember, _ value: JSONValue, into out: UnsafeMutableRawBufferPointer,
                                     path: String) throws(ValueError) {
        if member.bitfieldSize > 0 {
            var signed = false
            if case .integer(_, let isSigned, _, _) = member.type { signed = isSigned }
            var raw: UInt64
            if case .bool(let flag) = value {
                raw = flag ? 1 : 0
            } else if case .enumeration(let name, _, let isSigned, let cases) = member.type {
                signed = isSigned
                if case .string(let caseName) = value, integer(caseName) == nil {
                    guard let match = cases.first(where: { $0.name == caseName }) else {
                        throw ValueError(path: path, message: "'\(caseName)' is not a case of enum \(name) (cases: \(cases.map(\.name).joined(separator: ", ")))")
                    }
                    raw = UInt64(bitPattern: match.value)
                } else {
                    raw = try integerBits(value, size: 8, signed: signed, path: path)
                }
            } else {
                raw = try integerBits(value, size: 8, signed: signed, path: path)
            }
            let width = member.bitfieldSize
            if width < 64 {
                let fits = signed
                    ? (-(Int64(1) << (width - 1))...((Int64(1) << (width - 1)) - 1)).contains(Int64(bitPattern: raw))
                    : raw < (UInt64(1) << width)
                guard fits else { throw ValueError(path: path, message: "does not fit a \(width)-bit field") }
                raw &= (UInt64(1) << width) - 1
            }
            for bit in 0..<width where raw & (1 << UInt64(bit)) != 0 {
                let position = member.bitOffset + bit
                out[position / 8] |= 1 << UInt8(position % 8)
            }
            return
        }
        let start = member.bitOffset / 8
        try encode(value, as: member.type, into: UnsafeMutableRawBufferPointer(rebasing: out[start..<(start + member.type.size)]), path: path)
    }

    private static func integerBits(_ value: JSONValue, size: Int, signed: Bool, path: String) throws(ValueError) -> UInt64 {
        let bits = size * 8
        switch value {
        case .int(let number):
            if signed {
                let low = bits >= 64 ? Int64.min : -(Int64(1) << (bits - 1))
                let high = bits >= 64 ? Int64.max : (Int64(1) << (bits - 1)) - 1
                guard (low...high).contains(number) else { throw outOfRange(path, size, signed) }
            } else {
                guard number >= 0, bits >= 64 || UInt64(number) < (UInt64(1) << bits) else { throw outOfRange(path, size, signed) }
            }
            return UInt64(bitPattern: number)
        case .uint(let number):
            if let small = Int64(exactly: number) { return try integerBits(.int(small), size: size, signed: signed, path: path) }
            if signed { throw outOfRange(path, size, signed) }
            guard bits >= 64 || number < (UInt64(1) << bits) else { throw outOfRange(path, size, signed) }
            return number
        case .string(let text):
            // What a shell or a JSON number cannot say well: `0x` hex, and
            // 64-bit values for clients whose JSON numbers are doubles.
            guard let number = integer(text) else {
                throw ValueError(path: path, message: "expected an integer, got string")
            }
            return try integerBits(number, size: size, signed: signed, path: path)
        default:
            throw ValueError(path: path, message: "expected an integer, got \(value.typeName)")
        }
    }

    /// An integer written as a string: decimal (`-12`, `18446744073709551615`)
    /// or `0x` hex (`0x1f`, `-0x10`), nothing around it; nil otherwise.
    static func integer(_ text: String) -> JSONValue? {
        let negative = text.hasPrefix("-")
        let body = negative ? text.dropFirst() : Substring(text)
        let digits: Substring
        let radix: Int
        if body.hasPrefix("0x") || body.hasPrefix("0X") {
            digits = body.dropFirst(2)
            radix = 16
        } else {
            digits = body
            radix = 10
        }
        // UInt64(_:radix:) takes a sign of its own; only ours is allowed.
        guard !digits.isEmpty, digits.allSatisfy(\.isHexDigit), let magnitude = UInt64(digits, radix: radix) else { return nil }
        if !negative { return .uint(magnitude) }
        if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
        guard let small = Int64(exactly: magnitude) else { return nil }
        return .int(-small)
    }

    private static func outOfRange(_ path: String, _ size: Int, _ signed: Bool) -> ValueError {
        ValueError(path: path, message: "out of range for \(signed ? "a signed" : "an unsigned") \(size * 8)-bit integer")
    }

    private static func writeInteger(_ raw: UInt64, size: Int, into out: UnsafeMutableRawBufferPointer) {
        var little = raw.littleEndian
        withUnsafeBytes(of: &little) { bytes in
            for index in 0..<min(size, 8) { out[index] = bytes[index] }
        }
    }
}

/// Lowercase hex, as keys and values travel without BTF or with `format: "hex"`.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text = ""
        for byte in bytes {
            text.append(Character(Unicode.Scalar(JSONWriter.hexDigits[Int(byte >> 4)])))
            text.append(Character(Unicode.Scalar(JSONWriter.hexDigits[Int(byte & 0xF)])))
        }
        return text
    }

    /// Accepts upper and lower case and an optional `0x`; nil if not hex.
    public static func decode(_ text: String) -> [UInt8]? {
        var digits = Substring(text)
        if digits.hasPrefix("0x") { digits = digits.dropFirst(2) }
        guard digits.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.utf8.count / 2)
        var high: UInt8?
        for c in digits.utf8 {
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }
}

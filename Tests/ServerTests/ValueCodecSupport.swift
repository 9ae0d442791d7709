import BpfleetServer
import BpfleetShared
import Foundation
import NIOCore

/// Hand-built BTF types, named as C spells them.
enum CType {
    static func int(_ size: Int, signed: Bool) -> BTFType {
        .integer(size: size, signed: signed, char: false, bool: false)
    }

    static let u8 = int(1, signed: false)
    static let s8 = int(1, signed: true)
    static let u16 = int(2, signed: false)
    static let s16 = int(2, signed: true)
    static let u32 = int(4, signed: false)
    static let s32 = int(4, signed: true)
    static let u64 = int(8, signed: false)
    static let s64 = int(8, signed: true)
    static let bool = BTFType.integer(size: 1, signed: false, char: false, bool: true)
    /// `char` as on x86-64, where it is signed.
    static let char = BTFType.integer(size: 1, signed: true, char: true, bool: false)
    static let unsignedChar = BTFType.integer(size: 1, signed: false, char: true, bool: false)

    static func chars(_ count: Int) -> BTFType { .array(element: char, count: count) }

    static func member(_ name: String, _ type: BTFType, byte: Int) -> BTFMember {
        BTFMember(name: name, type: type, bitOffset: byte * 8)
    }

    static func bitfield(_ name: String, _ type: BTFType, bit: Int, width: Int) -> BTFMember {
        BTFMember(name: name, type: type, bitOffset: bit, bitfieldSize: width)
    }

    /// enum color { RED, GREEN, BLUE } (unsigned, 4 bytes)
    static let color = BTFType.enumeration(name: "color", size: 4, signed: false, cases: [
        BTFEnumCase(name: "RED", value: 0), BTFEnumCase(name: "GREEN", value: 1), BTFEnumCase(name: "BLUE", value: 2),
    ])

    /// enum level { NEG = -1, ZERO = 0, BIG = 0x7fffffff } (signed, 4 bytes)
    static let level = BTFType.enumeration(name: "level", size: 4, signed: true, cases: [
        BTFEnumCase(name: "NEG", value: -1), BTFEnumCase(name: "ZERO", value: 0), BTFEnumCase(name: "BIG", value: 0x7fff_ffff),
    ])

    /// struct endpoint { u16 port; u8 proto; /* 1 byte padding */ } — 4 bytes
    static let endpoint = BTFType.structure(name: "endpoint", size: 4, members: [
        member("port", u16, byte: 0),
        member("proto", u8, byte: 2),
    ])

    /// struct flags { u32 a:3; s32 b:4; bool c:1; u32 d:24; }
    static let flags = BTFType.structure(name: "flags", size: 4, members: [
        bitfield("a", u32, bit: 0, width: 3),
        bitfield("b", s32, bit: 3, width: 4),
        bitfield("c", bool, bit: 7, width: 1),
        bitfield("d", u32, bit: 8, width: 24),
    ])

    /// struct event {
    ///     u32 pid;              // 0
    ///     char comm[16];        // 4
    ///     struct endpoint ep;   // 20
    ///     s64 delta;            // 24
    ///     enum color color;     // 32
    ///     bool ok;              // 36
    ///     /* 3 bytes padding */
    ///     struct endpoint peers[2]; // 40
    /// } — 48 bytes
    static let event = BTFType.structure(name: "event", size: 48, members: [
        member("pid", u32, byte: 0),
        member("comm", chars(16), byte: 4),
        member("ep", endpoint, byte: 20),
        member("delta", s64, byte: 24),
        member("color", color, byte: 32),
        member("ok", bool, byte: 36),
        member("peers", .array(element: endpoint, count: 2), byte: 40),
    ])
}

/// Little-endian bytes of `value`, `size` long.
func littleEndian(_ value: UInt64, size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
}

func littleEndian(_ value: Int64, size: Int) -> [UInt8] {
    littleEndian(UInt64(bitPattern: value), size: size)
}

/// The JSON text `ValueCodec.write` makes of `bytes` as `type`.
func written(_ type: BTFType, _ bytes: [UInt8]) -> String {
    var writer = JSONWriter(buffer: ByteBuffer())
    bytes.withUnsafeBytes { ValueCodec.write(type, $0, to: &writer) }
    return String(buffer: writer.buffer)
}

/// The bytes `ValueCodec.encode` makes of `value` as `type`.
func encoded(_ value: JSONValue, as type: BTFType, path: String = "value") throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: type.size)
    try out.withUnsafeMutableBytes { buffer in
        try ValueCodec.encode(value, as: type, into: buffer, path: path)
    }
    return out
}

func parsedJSON(_ text: String) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
}

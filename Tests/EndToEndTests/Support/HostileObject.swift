import Foundation
import TestSupport

/// A compiled BPF object whose bytes a test corrupts the way an attacker
/// would: BTF records found by kind and name in the `.BTF` section and
/// patched in place, or the file cut short.
struct HostileObject {
    var bytes: [UInt8]

    init(_ data: Data) {
        bytes = Array(data)
    }

    struct BTFRecord {
        var id: UInt32
        var kind: Int
        var name: String
        /// Offset in the object of the record's first word (name_off).
        var offset: Int
        var vlen: Int
        /// Offset of the record's `size`/`type` word.
        var typeWord: Int { offset + 8 }
        /// Offset of member `index`'s `type` word (struct or union).
        func memberTypeWord(_ index: Int) -> Int { offset + 12 + index * 12 + 4 }
        func memberNameWord(_ index: Int) -> Int { offset + 12 + index * 12 }
    }

    static let pointer = 2, structure = 4, variable = 14

    /// The BTF records of the `.BTF` section, with their places in the file.
    func btfRecords() throws -> [BTFRecord] {
        let section = try self.section(named: ".BTF")
        let header = section.lowerBound
        guard u16(header) == 0xEB9F else { throw TestFailure("no BTF magic") }
        let headerLength = Int(u32(header + 4))
        let typeStart = header + headerLength + Int(u32(header + 8))
        let typeEnd = typeStart + Int(u32(header + 12))
        let strings = header + headerLength + Int(u32(header + 16))
        var records: [BTFRecord] = []
        var offset = typeStart
        var id: UInt32 = 1
        while offset < typeEnd {
            let info = u32(offset + 4)
            let kind = Int((info >> 24) & 0x1f)
            let vlen = Int(info & 0xffff)
            records.append(BTFRecord(id: id, kind: kind, name: string(at: strings + Int(u32(offset))), offset: offset, vlen: vlen))
            let extra: Int = switch kind {
            case 1, 14, 17: 4                 // int, var, decl_tag
            case 3: 12                        // array
            case 4, 5, 15, 19: 12 * vlen      // struct, union, datasec, enum64
            case 6, 13: 8 * vlen              // enum, func_proto
            default: 0
            }
            offset += 12 + extra
            id += 1
        }
        return records
    }

    func record(kind: Int, named name: String) throws -> BTFRecord {
        guard let found = try btfRecords().first(where: { $0.kind == kind && $0.name == name }) else {
            throw TestFailure("no BTF record of kind \(kind) named \(name)")
        }
        return found
    }

    /// The type id a record's `type` word holds (a pointer's or variable's).
    func referenced(by record: BTFRecord) -> UInt32 { u32(record.typeWord) }

    func record(id: UInt32) throws -> BTFRecord {
        guard let found = try btfRecords().first(where: { $0.id == id }) else { throw TestFailure("no BTF type \(id)") }
        return found
    }

    mutating func set(_ offset: Int, to value: UInt32) {
        for byte in 0..<4 { bytes[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(byte))) }
    }

    var base64: String { Data(bytes).base64EncodedString() }

    // MARK: ELF64, little-endian

    /// The first section whose name starts with `prefix`: its name and
    /// where its bytes are.
    func section(prefixed prefix: String) throws -> (name: String, range: Range<Int>) {
        for (name, range) in sections() where name.hasPrefix(prefix) { return (name, range) }
        throw TestFailure("no section named \(prefix)...")
    }

    private func sections() -> [(String, Range<Int>)] {
        let sectionHeaders = Int(u64(0x28))
        let entrySize = Int(u16(0x3A))
        let count = Int(u16(0x3C))
        let names = Int(u64(sectionHeaders + Int(u16(0x3E)) * entrySize + 0x18))
        return (0..<count).map { index in
            let header = sectionHeaders + index * entrySize
            let start = Int(u64(header + 0x18))
            return (string(at: names + Int(u32(header))), start..<(start + Int(u64(header + 0x20))))
        }
    }

    mutating func set64(_ offset: Int, to value: UInt64) {
        for byte in 0..<8 { bytes[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))) }
    }

    func word64(at offset: Int) -> UInt64 { u64(offset) }

    private func section(named wanted: String) throws -> Range<Int> {
        guard let found = sections().first(where: { $0.0 == wanted }) else { throw TestFailure("no section \(wanted)") }
        return found.1
    }

    private func string(at offset: Int) -> String {
        let end = bytes[offset...].firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    private func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
    private func u32(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) } }
    private func u64(_ offset: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) } }
}

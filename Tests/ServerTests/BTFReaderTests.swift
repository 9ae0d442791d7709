@testable import BpfleetServer
import CLibBPF
import Foundation
import Testing

/// Raw BTF built by hand, as an attacker would write it: any id may refer
/// to any other, names may point anywhere.
struct RawBTF {
    private var strings: [UInt8] = [0]
    private var types: [UInt8] = []
    private(set) var lastID: UInt32 = 0

    mutating func name(_ text: String) -> UInt32 {
        let offset = UInt32(strings.count)
        strings += Array(text.utf8) + [0]
        return offset
    }

    private mutating func word(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { types.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private mutating func record(name: UInt32, kind: UInt32, vlen: Int = 0, sizeOrType: UInt32) -> UInt32 {
        word(name)
        word(kind << 24 | UInt32(vlen))
        word(sizeOrType)
        lastID += 1
        return lastID
    }

    mutating func int(_ text: String, size: UInt32, signed: Bool = false) -> UInt32 {
        let id = record(name: name(text), kind: 1, sizeOrType: size)
        word((signed ? 1 : 0) << 24 | size * 8)
        return id
    }

    mutating func pointer(to target: UInt32) -> UInt32 {
        record(name: 0, kind: 2, sizeOrType: target)
    }

    mutating func typedef(_ text: String, to target: UInt32) -> UInt32 {
        record(name: name(text), kind: 8, sizeOrType: target)
    }

    mutating func array(of element: UInt32, index: UInt32, count: UInt32) -> UInt32 {
        let id = record(name: 0, kind: 3, sizeOrType: 0)
        word(element)
        word(index)
        word(count)
        return id
    }

    /// Members as (name offset, type, bit offset): a raw name offset, so a
    /// test can put it anywhere.
    mutating func structure(_ nameOffset: UInt32, size: UInt32, members: [(UInt32, UInt32, UInt32)]) -> UInt32 {
        let id = record(name: nameOffset, kind: 4, vlen: members.count, sizeOrType: size)
        for (memberName, type, bitOffset) in members {
            word(memberName)
            word(type)
            word(bitOffset)
        }
        return id
    }

    /// Where the next type will be: for records that refer forward.
    var nextID: UInt32 { lastID + 1 }

    var bytes: [UInt8] {
        var header: [UInt8] = [0x9F, 0xEB, 1, 0]
        for value in [UInt32(24), 0, UInt32(types.count), UInt32(types.count), UInt32(strings.count)] {
            for shift in stride(from: 0, to: 32, by: 8) { header.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        }
        return header + types + strings
    }

    /// Parsed by libbpf (which checks only the layout), then `body`.
    func withReader<T>(_ body: (BTFReader) throws -> T) throws -> T {
        let raw = bytes
        guard let btf = raw.withUnsafeBytes({ btf__new($0.baseAddress, UInt32($0.count)) }) else {
            throw BTFTestFailure("libbpf refused the BTF (errno \(errno))")
        }
        defer { btf__free(btf) }
        return try body(BTFReader(btf: btf))
    }
}

struct BTFTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension BTFReader {
    func problem() -> BTFProblem? {
        do throws(BTFProblem) {
            try validate()
            return nil
        } catch {
            return error
        }
    }
}

/// Nodes of an expanded type, array elements once per element: what a walk
/// of it by the value codec costs.
func expandedNodes(_ type: BTFType) -> Int {
    switch type {
    case .array(let element, let count): 1 + count * expandedNodes(element)
    case .structure(_, _, let members), .union(_, _, let members): members.reduce(1) { $0 + expandedNodes($1.type) }
    default: 1
    }
}

@Suite struct BTFReaderTests {
    @Test func referencesPastTheLastType() throws {
        var raw = RawBTF()
        let u32 = raw.int("unsigned int", size: 4)
        let node = raw.structure(raw.name("node"), size: 8, members: [(raw.name("a"), u32, 0), (raw.name("b"), 99, 32)])
        try raw.withReader { reader in
            #expect(reader.problem() == BTFProblem(typeID: node, message: "member 1 refers to type 99, past the last type (\(node))"))
            // Unchecked, the reader shows what it cannot resolve as hex.
            #expect(reader.type(node) == .structure(name: "node", size: 8, members: [
                BTFMember(name: "a", type: .integer(size: 4, signed: false, char: false, bool: false), bitOffset: 0),
                BTFMember(name: "b", type: .opaque(size: 0), bitOffset: 32),
            ]))
        }
    }

    @Test func aListNodeThroughAPointerIsFine() throws {
        var raw = RawBTF()
        let u32 = raw.int("unsigned int", size: 4)
        let pointer = raw.pointer(to: raw.nextID + 1)
        let node = raw.structure(raw.name("node"), size: 16, members: [(raw.name("next"), pointer, 0), (raw.name("value"), u32, 64)])
        try raw.withReader { reader in
            #expect(reader.problem() == nil)
            #expect(reader.name(pointer) == "struct node *")
            #expect(reader.type(node) == .structure(name: "node", size: 16, members: [
                BTFMember(name: "next", type: .pointer(size: 8), bitOffset: 0),
                BTFMember(name: "value", type: .integer(size: 4, signed: false, char: false, bool: false), bitOffset: 64),
            ]))
        }
    }

    @Test func theKernelsOwnBTFPasses() throws {
        guard let btf = btf__load_vmlinux_btf() else {
            print("skipped: the kernel has no BTF (/sys/kernel/btf/vmlinux)")
            return
        }
        defer { btf__free(btf) }
        let reader = BTFReader(btf: btf)
        #expect(reader.problem() == nil)
        let taskStruct = btf__find_by_name_kind(btf, "task_struct", 4)
        #expect(taskStruct > 0)
        if case .structure(let name, _, let members)? = reader.type(UInt32(taskStruct)) {
            #expect(name == "task_struct")
            #expect(members.contains { $0.name == "pid" })
        } else {
            Issue.record("task_struct did not resolve to a struct")
        }
    }

    @Test func nameOffsetsOutsideTheStrings() throws {
        var raw = RawBTF()
        let u32 = raw.int("unsigned int", size: 4)
        let bad = raw.structure(raw.name("s"), size: 4, members: [(0x00FF_FFFF, u32, 0)])
        try raw.withReader { reader in
            #expect(reader.problem() == BTFProblem(typeID: bad, message: "member 0's name is at offset 16777215, outside the string section"))
            // Unchecked, the reader still reads such a name as empty.
            #expect(reader.type(bad) == .structure(name: "s", size: 4, members: [
                BTFMember(name: "", type: .integer(size: 4, signed: false, char: false, bool: false), bitOffset: 0)]))
        }
        var named = RawBTF()
        let struct2 = named.structure(0x7000_0000, size: 0, members: [])
        try named.withReader { reader in
            #expect(reader.problem() == BTFProblem(typeID: struct2, message: "name is at offset 1879048192, outside the string section"))
            #expect(reader.name(struct2) == "struct {...}")
        }
    }

    @Test func pointersToThemselves() throws {
        var raw = RawBTF()
        let selfPointer = raw.pointer(to: raw.nextID)
        try raw.withReader { reader in
            #expect(reader.problem() == BTFProblem(typeID: selfPointer, message: "refers to itself through pointers and qualifiers alone (1 -> 1)"))
            // Unchecked, its C spelling stops after maxDepth pointers.
            #expect(reader.name(selfPointer) == "..." + String(repeating: " *", count: BTFReader.maxDepth))
            #expect(reader.type(selfPointer) == .pointer(size: 8))
        }
        var cycle = RawBTF()
        let first = cycle.pointer(to: cycle.nextID + 1)
        let second = cycle.typedef("t", to: first)
        try cycle.withReader { reader in
            #expect(reader.problem() == BTFProblem(typeID: first, message: "refers to itself through pointers and qualifiers alone (1 -> 2 -> 1)"))
            #expect(reader.type(second) == .pointer(size: 8))
        }
    }

    @Test func structsThatContainThemselves() throws {
        var raw = RawBTF()
        let pair = raw.structure(raw.name("pair"), size: 8, members: [(raw.name("a"), raw.nextID, 0), (raw.name("b"), raw.nextID, 0)])
        try raw.withReader { reader in
            #expect(reader.problem() == BTFProblem(typeID: pair, message: "contains itself (1 -> 1): its size would be infinite"))
            // Unchecked, the inner occurrences are opaque: one resolution.
            #expect(reader.type(pair) == .structure(name: "pair", size: 8, members: [
                BTFMember(name: "a", type: .opaque(size: 8), bitOffset: 0),
                BTFMember(name: "b", type: .opaque(size: 8), bitOffset: 0),
            ]))
        }
    }

    @Test func aDoublingChainIsBoundedNotExponential() throws {
        // s0 holds two s1, s1 two s2, ... s29 two ints: 2^31 nodes expanded
        // for a reader that neither remembers nor bounds.
        var raw = RawBTF()
        let levels = 30
        let first = raw.nextID
        for level in 0..<levels {
            let next = level == levels - 1 ? first + UInt32(levels) : raw.nextID + 1
            _ = raw.structure(raw.name("s\(level)"), size: 4, members: [(raw.name("x"), next, 0), (raw.name("y"), next, 0)])
        }
        let int = raw.int("int", size: 4, signed: true)
        #expect(int == first + UInt32(levels))
        try raw.withReader { reader in
            #expect(reader.problem() == nil)
            let resolved = try #require(reader.type(first))
            // s11 expands to 2^20 - 1 nodes; s10 would be 2^21 - 1, past
            // the bound, so it is opaque, and s0 expands to 2^11 - 1.
            #expect(expandedNodes(resolved) == (1 << 11) - 1)
        }
    }

    @Test func membersOutsideTheirStructAreOpaque() throws {
        var raw = RawBTF()
        let u64 = raw.int("unsigned long long", size: 8)
        let outside = raw.structure(raw.name("s"), size: 8, members: [(raw.name("late"), u64, 32)])
        let huge = raw.array(of: u64, index: u64, count: 0xFFFF_FFFF)
        try raw.withReader { reader in
            #expect(reader.problem() == nil)
            #expect(reader.type(outside) == .opaque(size: 8))
            #expect(reader.type(huge) == .opaque(size: 0))
        }
    }

    @Test func deepChainsStopAtTheDepthLimit() throws {
        // 10,000 nested structs: no stack overflow, opaque below maxDepth.
        var raw = RawBTF()
        let count = 10_000
        let first = raw.nextID
        for index in 0..<count {
            let inner = index == count - 1 ? first + UInt32(count) : raw.nextID + 1
            _ = raw.structure(raw.name("n\(index)"), size: 4, members: [(raw.name("m"), inner, 0)])
        }
        _ = raw.int("int", size: 4, signed: true)
        try raw.withReader { reader in
            #expect(reader.problem() == nil)
            var depth = 0
            var current = try #require(reader.type(first))
            while case .structure(_, _, let members) = current, let member = members.first {
                depth += 1
                current = member.type
            }
            #expect(depth == BTFReader.maxDepth)
            #expect(current == .opaque(size: 4))
        }
    }
}

@testable import BpfleetServer
import Testing

/// kallsyms text as `KernelSymbols` reads it, with no kernel.
@Suite("kernel symbols")
struct KernelSymbolsTests {
    static let text = """
        ffffffff81000000 T _stext
        ffffffff81000100 t helper
        ffffffff81000200 D some_data
        ffffffff81000300 W weak_function
        ffffffffc0027a00 t bpf_dispatcher_xdp\t[bpf]
        ffffffffc0100000 t ext4_lookup\t[ext4]
        0000000000000000 T hidden
        not a line
        ffffffff8100000x T broken
        """

    let symbols = KernelSymbols(parsing: Array(text.utf8))

    @Test func anAddressReadsAsItsFunctionOffsetAndModule() {
        #expect(symbols.count == 5)
        #expect(symbols.place(of: 0xffff_ffff_8100_0000) == .init(symbol: "_stext", offset: 0, module: nil))
        #expect(symbols.place(of: 0xffff_ffff_8100_0123) == .init(symbol: "helper", offset: 0x23, module: nil))
        // Data symbols are not functions: the text symbol before them holds the address.
        #expect(symbols.place(of: 0xffff_ffff_8100_0250) == .init(symbol: "helper", offset: 0x150, module: nil))
        #expect(symbols.place(of: 0xffff_ffff_8100_0301) == .init(symbol: "weak_function", offset: 1, module: nil))
        #expect(symbols.place(of: 0xffff_ffff_c002_7a10) == .init(symbol: "bpf_dispatcher_xdp", offset: 0x10, module: "bpf"))
        #expect(symbols.place(of: 0xffff_ffff_c010_0004) == .init(symbol: "ext4_lookup", offset: 4, module: "ext4"))
    }

    @Test func addressesOutsideEveryFunctionReadAsNone() {
        #expect(symbols.place(of: 0xffff_ffff_80ff_ffff) == nil)
        #expect(symbols.place(of: 0xffff_ffff_c010_0000 + KernelSymbols.largestFunction) == nil)
        #expect(KernelSymbols(parsing: Array("0000000000000000 T hidden\n".utf8)).count == 0)
        #expect(KernelSymbols(parsing: []).place(of: 0xffff_ffff_8100_0000) == nil)
    }

    @Test func stackIDMembersAreFoundByName() {
        #expect(StackIDFields.isStackID("kern_stack_id"))
        #expect(StackIDFields.isStackID("user_stack_id"))
        #expect(StackIDFields.isStackID("stackid"))
        #expect(StackIDFields.isStackID("kstack"))
        #expect(!StackIDFields.isStackID("stack_depth"))
        #expect(!StackIDFields.isStackID("pid"))
        let key = BTFType.structure(name: "key", size: 24, members: [
            BTFMember(name: "pid", type: .integer(size: 4, signed: false, char: false, bool: false), bitOffset: 0),
            BTFMember(name: "kern_stack_id", type: .integer(size: 4, signed: true, char: false, bool: false), bitOffset: 32),
            BTFMember(name: "user_stack_id", type: .integer(size: 8, signed: true, char: false, bool: false), bitOffset: 64),
            BTFMember(name: "stack_bits", type: .integer(size: 4, signed: true, char: false, bool: false), bitOffset: 128, bitfieldSize: 3),
        ])
        let fields = StackIDFields(key: key, value: .integer(size: 8, signed: false, char: false, bool: false))
        #expect(fields.fields.map(\.name) == ["kern_stack_id", "user_stack_id"])
        var bytes = [UInt8](repeating: 0, count: 24)
        bytes[4] = 0xf2; bytes[5] = 0xff; bytes[6] = 0xff; bytes[7] = 0xff  // -14
        bytes[8] = 7
        bytes.withUnsafeBytes { raw in
            #expect(StackIDFields.read(fields.fields[0], from: raw) == -14)
            #expect(StackIDFields.read(fields.fields[1], from: raw) == 7)
        }
    }

    @Test func theBlockedSearchFindsWhatAPlainOneDoes() {
        // 300 symbols 0x100 apart, some sharing an address: every block
        // edge, address and gap, against a walk of the list.
        var lines: [String] = []
        var addresses: [UInt64] = []
        for index in 0..<300 {
            let address = 0xffff_ffff_8100_0000 + UInt64(index / 3 * 3) * 0x100 + UInt64(index % 3 == 2 ? 0x80 : 0)
            addresses.append(address)
            lines.append("\(String(address, radix: 16)) T f\(index)")
        }
        let symbols = KernelSymbols(parsing: Array(lines.joined(separator: "\n").utf8))
        let sorted = addresses.sorted()
        var probes: [UInt64] = [0, sorted[0] - 1]
        for address in sorted { probes += [address, address + 1, address + 0x7f] }
        for probe in probes {
            let expected = sorted.lastIndex { $0 <= probe }
            #expect(symbols.index(atOrBelow: probe) == expected, "\(String(probe, radix: 16))")
            var name: [UInt8] = []
            #expect(symbols.appendName(of: probe, to: &name) == (symbols.place(of: probe) != nil))
            #expect((name.isEmpty ? nil : String(decoding: name, as: UTF8.self)) == symbols.place(of: probe)?.symbol)
        }
    }
}

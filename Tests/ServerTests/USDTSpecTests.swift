@testable import BpfleetServer
import Testing

/// The argument specs bpfleetd writes for a USDT call site, in the layout
/// libbpf 1.1's `bpf_usdt_arg()` reads.
@Suite struct USDTSpecTests {
    func spec(_ text: String) throws -> USDTSpec {
        try USDTSpec.parseX86(text).get()
    }

    func failure(_ text: String) -> USDTSpec.ParseFailure? {
        if case .failure(let problem) = USDTSpec.parseX86(text) { return problem }
        return nil
    }

    @Test func registersConstantsAndMemoryAsX86WritesThem() throws {
        let parsed = try spec("-4@%eax 8@-8(%rbp) 4@$5 2@%r12w 1@(%rsp) -8@$-3")
        #expect(parsed.arguments == [
            .init(location: .register(offset: 80), bytes: 4, signed: true),
            .init(location: .memory(register: 32, offset: -8), bytes: 8, signed: false),
            .init(location: .constant(5), bytes: 4, signed: false),
            .init(location: .register(offset: 24), bytes: 2, signed: false),
            .init(location: .memory(register: 152, offset: 0), bytes: 1, signed: false),
            .init(location: .constant(-3), bytes: 8, signed: true),
        ])
    }

    @Test func theEncodedRecord() throws {
        let bytes = try spec("-4@%eax 8@-8(%rbp) 4@$5").encoded
        #expect(bytes.count == 208)
        // Argument 0: register rax (pt_regs offset 80), signed, shifted by 32.
        #expect(Array(bytes[0..<16]) == [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 80, 0, 1, 32])
        // Argument 1: memory at rbp - 8, eight bytes, no shift.
        #expect(Array(bytes[16..<32]) == [0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 32, 0, 0, 0])
        // Argument 2: the constant 5.
        #expect(Array(bytes[32..<48]) == [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32])
        #expect(bytes[48..<200].allSatisfy { $0 == 0 })
        #expect(Array(bytes[200..<208]) == [3, 0, 0, 0, 0, 0, 0, 0])
        // No arguments: all zero, like a free entry (and shared with one).
        #expect(try spec("").encoded == [UInt8](repeating: 0, count: 208))
    }

    @Test func whatItCannotRead() {
        #expect(failure("%eax") == .init(argument: "%eax", reason: "no SIZE@ before the location"))
        #expect(failure("3@%eax") == .init(argument: "3@%eax", reason: "no SIZE@ before the location"))
        #expect(failure("4@%xmm0") == .init(argument: "4@%xmm0", reason: "unknown register"))
        #expect(failure("8@8(%rax,%rbx,8)") == .init(argument: "8@8(%rax,%rbx,8)", reason: "unknown base register (an index register is not supported)"))
        #expect(failure("8@foo(%rip)") == .init(argument: "8@foo(%rip)", reason: "the offset is not a number"))
        #expect(failure("4@$x") == .init(argument: "4@$x", reason: "not a constant"))
        #expect(failure("4@eax") == .init(argument: "4@eax", reason: "unknown location"))
        let thirteen = Array(repeating: "4@%eax", count: 13).joined(separator: " ")
        #expect(failure(thirteen) == .init(argument: thirteen, reason: "more than 12 arguments"))
    }
}

import BpfleetShared

/// How a USDT program finds its arguments: the record libbpf's
/// `bpf_usdt_arg()` (usdt.bpf.h, libbpf 1.1) reads from the object's
/// `__bpf_usdt_specs` map under the id a link carries as its BPF cookie.
///
/// The layout, little-endian: 12 argument specs of 16 bytes (`val_off`
/// u64, `arg_type` u32 — 0 constant, 1 register, 2 memory at register plus
/// offset —, `reg_off` i16 into `struct pt_regs`, `arg_signed` u8,
/// `arg_bitshift` i8), then `usdt_cookie` u64 at 192 and `arg_cnt` i16 at
/// 200: 208 bytes.
struct USDTSpec: Hashable {
    static let size = 208
    static let maxArguments = 12

    enum Location: Hashable {
        case constant(Int64)
        case register(offset: Int16)
        case memory(register: Int16, offset: Int64)
    }

    struct Argument: Hashable {
        var location: Location
        var bytes: Int
        var signed: Bool
    }

    var arguments: [Argument]

    /// The record's bytes.
    var encoded: [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.size)
        func put(_ value: UInt64, at offset: Int, bytes: Int) {
            for index in 0..<bytes { out[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
        }
        for (index, argument) in arguments.prefix(Self.maxArguments).enumerated() {
            let base = index * 16
            switch argument.location {
            case .constant(let value):
                put(UInt64(bitPattern: value), at: base, bytes: 8)
                put(0, at: base + 8, bytes: 4)
            case .register(let offset):
                put(1, at: base + 8, bytes: 4)
                put(UInt64(UInt16(bitPattern: offset)), at: base + 12, bytes: 2)
            case .memory(let register, let offset):
                put(UInt64(bitPattern: offset), at: base, bytes: 8)
                put(2, at: base + 8, bytes: 4)
                put(UInt64(UInt16(bitPattern: register)), at: base + 12, bytes: 2)
            }
            out[base + 14] = argument.signed ? 1 : 0
            out[base + 15] = UInt8(64 - argument.bytes * 8)
        }
        put(UInt64(min(arguments.count, Self.maxArguments)), at: 200, bytes: 2)
        return out
    }

    /// Offsets of x86-64's registers in `struct pt_regs`, by every name a
    /// systemtap note may give them.
    static let x86Registers: [String: Int16] = {
        let families: [(Int16, [String])] = [
            (0, ["r15", "r15d", "r15w", "r15b"]), (8, ["r14", "r14d", "r14w", "r14b"]),
            (16, ["r13", "r13d", "r13w", "r13b"]), (24, ["r12", "r12d", "r12w", "r12b"]),
            (32, ["rbp", "ebp", "bp", "bpl"]), (40, ["rbx", "ebx", "bx", "bl"]),
            (48, ["r11", "r11d", "r11w", "r11b"]), (56, ["r10", "r10d", "r10w", "r10b"]),
            (64, ["r9", "r9d", "r9w", "r9b"]), (72, ["r8", "r8d", "r8w", "r8b"]),
            (80, ["rax", "eax", "ax", "al"]), (88, ["rcx", "ecx", "cx", "cl"]),
            (96, ["rdx", "edx", "dx", "dl"]), (104, ["rsi", "esi", "si", "sil"]),
            (112, ["rdi", "edi", "di", "dil"]), (128, ["rip", "eip"]), (152, ["rsp", "esp", "sp", "spl"]),
        ]
        var table: [String: Int16] = [:]
        for (offset, names) in families { for name in names { table[name] = offset } }
        return table
    }()

    /// The arguments of a systemtap note as x86-64 writes them:
    /// `SIZE@LOCATION` separated by spaces, SIZE 1, 2, 4 or 8 (negative:
    /// signed), LOCATION `%REG`, `$CONSTANT` or `OFFSET(%REG)`; or the
    /// argument it cannot read, and why.
    static func parseX86(_ text: String) -> Result<USDTSpec, ParseFailure> {
        var arguments: [Argument] = []
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            guard let at = word.firstIndex(of: "@"), let size = Int(word[..<at]), [1, 2, 4, 8].contains(abs(size)) else {
                return .failure(ParseFailure(argument: String(word), reason: "no SIZE@ before the location"))
            }
            let location = word[word.index(after: at)...]
            let parsed: Location
            if location.hasPrefix("$") {
                guard let value = Int64(location.dropFirst()) else {
                    return .failure(ParseFailure(argument: String(word), reason: "not a constant"))
                }
                parsed = .constant(value)
            } else if location.hasPrefix("%") {
                guard let register = x86Registers[String(location.dropFirst())] else {
                    return .failure(ParseFailure(argument: String(word), reason: "unknown register"))
                }
                parsed = .register(offset: register)
            } else if let open = location.firstIndex(of: "("), location.hasSuffix(")") {
                let offsetText = location[..<open]
                let inside = location[location.index(after: open)..<location.index(before: location.endIndex)]
                guard inside.hasPrefix("%"), let register = x86Registers[String(inside.dropFirst())] else {
                    return .failure(ParseFailure(argument: String(word), reason: "unknown base register (an index register is not supported)"))
                }
                guard let offset = offsetText.isEmpty ? 0 : Int64(offsetText) else {
                    return .failure(ParseFailure(argument: String(word), reason: "the offset is not a number"))
                }
                parsed = .memory(register: register, offset: offset)
            } else {
                return .failure(ParseFailure(argument: String(word), reason: "unknown location"))
            }
            arguments.append(Argument(location: parsed, bytes: abs(size), signed: size < 0))
        }
        guard arguments.count <= maxArguments else {
            return .failure(ParseFailure(argument: text, reason: "more than \(maxArguments) arguments"))
        }
        return .success(USDTSpec(arguments: arguments))
    }

    struct ParseFailure: Error, Hashable {
        var argument: String
        var reason: String
    }
}

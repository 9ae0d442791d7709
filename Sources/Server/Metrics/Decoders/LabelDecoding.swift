import Glibc

/// The machine whose syscall numbers a `syscall` decoder uses.
enum SyscallMachine: String, Sendable {
    case x86_64, aarch64

    /// The machine bpfleetd runs on: a BPF program sees its own kernel's
    /// syscall numbers.
    static var current: SyscallMachine {
        #if arch(x86_64)
        return .x86_64
        #elseif arch(arm64)
        return .aarch64
        #else
        #error("bpfleetd's syscall decoder knows the x86_64 and arm64 syscall tables only")
        #endif
    }
}

/// The label decoders of map exports: a field of a map's key turned into
/// a label's text. Pure functions; the tables are generated from the
/// kernel's uapi headers (scripts/gen-label-tables.sh).
enum LabelDecoding {
    /// "execve" for 59 on x86_64 (221 on aarch64); nil for a number with no syscall.
    static func syscallName(_ number: Int64, machine: SyscallMachine = .current) -> String? {
        let table: [String?]
        switch machine {
        case .x86_64: table = SyscallTable.x86_64
        case .aarch64: table = SyscallTable.aarch64
        }
        return name(at: number, in: table)
    }

    /// "ENOENT" for 2 and for -2 (kernel return values are negative); nil if unknown (e.g. 0 or 9999).
    static func errnoName(_ code: Int64) -> String? {
        // The magnitude: Int64.min has no negation.
        guard code.magnitude < UInt64(ErrnoTable.names.count) else { return nil }
        return ErrnoTable.names[Int(code.magnitude)]
    }

    /// Dotted quad of 4 bytes as they lie in memory (network order: bytes[0] is the first octet). Precondition-free: fewer than 4 bytes gives nil.
    /// So does more: a field of another width is not an IPv4 address.
    static func ipv4(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count == 4 else { return nil }
        return presentation(AF_INET, bytes)
    }

    /// RFC 5952 text of 16 bytes (what inet_ntop(AF_INET6) gives: "::1", "2001:db8::1", "::ffff:1.2.3.4"); nil if not 16 bytes.
    static func ipv6(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count == 16 else { return nil }
        return presentation(AF_INET6, bytes)
    }

    private static func name(at number: Int64, in table: [String?]) -> String? {
        guard number >= 0, number < Int64(table.count) else { return nil }
        return table[Int(number)]
    }

    /// Glibc's inet_ntop: the address's bytes may lie at any alignment (it
    /// reads them as bytes).
    private static func presentation(_ family: Int32, _ bytes: UnsafeRawBufferPointer) -> String? {
        guard let source = bytes.baseAddress else { return nil }
        // INET6_ADDRSTRLEN (46) with room to spare.
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> String? in
            guard let text = buffer.baseAddress,
                  inet_ntop(family, source, text, socklen_t(buffer.count)) != nil else {
                return nil
            }
            return String(cString: text)
        }
    }
}

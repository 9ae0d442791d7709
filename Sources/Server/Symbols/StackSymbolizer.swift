import BpfleetShared
import Foundation
import NIOConcurrencyHelpers

/// Stack addresses as frames people read (docs/protocol.md, "Stacks"):
/// kernel addresses through the node's kallsyms (function, offset,
/// module). The kernel's symbol table is read once and kept, and read
/// again when the loaded modules change (/proc/modules).
final class StackSymbolizer: Sendable {
    static let shared = StackSymbolizer()

    private struct Cache {
        var kernel: KernelSymbols?
        var modules: [UInt8] = []
    }
    private let cache = NIOLockedValueBox(Cache())
    let kallsyms: String
    let modulesPath: String

    init(kallsyms: String = "/proc/kallsyms", modules: String = "/proc/modules") {
        self.kallsyms = kallsyms
        self.modulesPath = modules
    }

    /// The kernel's symbols, read again when the module list changed since.
    func kernelSymbols() -> KernelSymbols {
        let modules = KernelSymbols.readProcFile(modulesPath, limit: 16 << 20)
        if let known = cache.withLockedValue({ $0.modules == modules ? $0.kernel : nil }) { return known }
        let fresh = KernelSymbols(path: kallsyms)
        cache.withLockedValue { $0 = Cache(kernel: fresh, modules: modules) }
        return fresh
    }

    /// Bytes the cached tables take.
    var cachedBytes: Int { cache.withLockedValue { $0.kernel?.byteCount ?? 0 } }

    /// `[{"address":"0x…","symbol":…,"offset":N,"module":…}, …]`, innermost
    /// first, up to the first 0 (a stack shorter than the map's depth). An
    /// address that cannot be read stays hex with a `reason`.
    static func writeFrames(_ addresses: [UInt64], kernel: KernelSymbols, to out: inout JSONWriter) {
        out.byte(UInt8(ascii: "["))
        for (index, address) in addresses.prefix(while: { $0 != 0 }).enumerated() {
            if index > 0 { out.byte(UInt8(ascii: ",")) }
            out.raw("{\"address\":")
            out.string("0x" + String(address, radix: 16))
            if address < KernelSymbols.kernelSpaceStart {
                out.raw(",\"reason\":\"a user-space address: user stacks are not symbolized by this bpfleetd\"}")
                continue
            }
            guard let place = kernel.place(of: address) else {
                out.raw(kernel.count == 0
                        ? ",\"reason\":\"kallsyms shows no kernel addresses to bpfleetd\"}"
                        : ",\"reason\":\"in no kernel function kallsyms lists\"}")
                continue
            }
            out.raw(",\"symbol\":")
            out.string(place.symbol)
            out.raw(",\"offset\":")
            out.uint(place.offset)
            if let module = place.module {
                out.raw(",\"module\":")
                out.string(module)
            }
            out.byte(UInt8(ascii: "}"))
        }
        out.byte(UInt8(ascii: "]"))
    }

    /// A stack trace map's value: its addresses (8 bytes each, native order).
    static func addresses(of value: UnsafeRawBufferPointer) -> [UInt64] {
        (0..<(value.count / 8)).map { value.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
    }
}

/// Where a map's entries hold stack ids: members of its key or value
/// struct named for one (`kern_stack_id`, `user_stack_id`, `stackid`,
/// `kstack`, `ustack`, ...), 4- or 8-byte integers.
struct StackIDFields: Sendable {
    struct Field: Sendable {
        var name: String
        var inKey: Bool
        var byteOffset: Int
        var size: Int
        var signed: Bool
    }
    var fields: [Field]

    init(key: BTFType?, value: BTFType?) {
        fields = Self.find(in: key, inKey: true) + Self.find(in: value, inKey: false)
    }

    static func isStackID(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.contains("stack") && (lower.hasSuffix("id") || lower == "kstack" || lower == "ustack")
    }

    private static func find(in type: BTFType?, inKey: Bool) -> [Field] {
        guard case .structure(_, _, let members)? = type else { return [] }
        return members.compactMap { member in
            guard member.bitfieldSize == 0, member.bitOffset % 8 == 0, isStackID(member.name),
                  case .integer(let size, let signed, _, _) = member.type, size == 4 || size == 8 else { return nil }
            return Field(name: member.name, inKey: inKey, byteOffset: member.bitOffset / 8, size: size, signed: signed)
        }
    }

    /// The id a field holds in `bytes` (the key or the value), as a signed number.
    static func read(_ field: Field, from bytes: UnsafeRawBufferPointer) -> Int64? {
        guard field.byteOffset + field.size <= bytes.count else { return nil }
        if field.size == 4 {
            let raw = bytes.loadUnaligned(fromByteOffset: field.byteOffset, as: UInt32.self)
            return field.signed ? Int64(Int32(bitPattern: raw)) : Int64(raw)
        }
        return Int64(bitPattern: bytes.loadUnaligned(fromByteOffset: field.byteOffset, as: UInt64.self))
    }
}

import BpfleetShared
import Foundation
import NIOConcurrencyHelpers

/// Stack addresses as frames people read (docs/protocol.md, "Stacks"):
/// kernel addresses through the node's kallsyms (function, offset,
/// module), user addresses through the process's mappings and the mapped
/// files' ELF symbol tables. The kernel's table is read once and again
/// when the loaded modules change (/proc/modules); a file's, once per
/// file version, up to `maxFiles` files.
final class StackSymbolizer: Sendable {
    static let shared = StackSymbolizer()

    private struct Cache {
        var kernel: KernelSymbols?
        var modules: [UInt8] = []
    }
    private let cache = NIOLockedValueBox(Cache())
    let kallsyms: String
    let modulesPath: String

    /// kallsyms, opened once: whether it shows addresses is decided at
    /// open, by the opener's capabilities (CAP_SYSLOG where
    /// kernel.kptr_restrict or perf_event_paranoid hide them), so bpfleetd
    /// opens it before it drops capabilities and reads it again from here.
    private let kallsymsDescriptor: Int32
    /// One reader at a time: a read is a seek to the start and many reads.
    private let kallsymsLock = NIOLock()

    init(kallsyms: String = "/proc/kallsyms", modules: String = "/proc/modules") {
        self.kallsyms = kallsyms
        self.modulesPath = modules
        self.kallsymsDescriptor = open(kallsyms, O_RDONLY | O_CLOEXEC)
    }

    deinit {
        if kallsymsDescriptor >= 0 { close(kallsymsDescriptor) }
    }

    /// Whether kallsyms shows this process addresses: its first line's
    /// address is not all zeros (kptr_restrict, or no CAP_SYSLOG where
    /// kernel.perf_event_paranoid is above 1, zero them all).
    var kallsymsShowsAddresses: Bool {
        guard kallsymsDescriptor >= 0 else { return false }
        var line = [UInt8](repeating: 0, count: 32)
        let count = kallsymsLock.withLock { () -> Int in
            guard lseek(kallsymsDescriptor, 0, SEEK_SET) == 0 else { return -1 }
            return line.withUnsafeMutableBytes { read(kallsymsDescriptor, $0.baseAddress, $0.count) }
        }
        guard count > 0 else { return false }
        return line.prefix(while: { $0 != UInt8(ascii: " ") }).contains { $0 != UInt8(ascii: "0") }
    }

    /// The kernel's symbols, read again when the module list changed since.
    func kernelSymbols() -> KernelSymbols {
        let modules = KernelSymbols.readProcFile(modulesPath, limit: 16 << 20)
        if let known = cache.withLockedValue({ $0.modules == modules ? $0.kernel : nil }) { return known }
        let fresh = kallsymsDescriptor >= 0
            ? KernelSymbols(parsing: kallsymsLock.withLock { KernelSymbols.readAll(kallsymsDescriptor, limit: 256 << 20) })
            : KernelSymbols(path: kallsyms)
        cache.withLockedValue { $0 = Cache(kernel: fresh, modules: modules) }
        return fresh
    }

    /// Bytes the cached kernel table takes.
    var cachedKernelBytes: Int { cache.withLockedValue { $0.kernel?.byteCount ?? 0 } }

    /// The ELF files' symbols, by file identity (device, inode, size,
    /// modification time), at most `maxFiles` of them.
    private let files = NIOLockedValueBox([String: ELFSymbols]())
    static let maxFiles = 64

    /// Bytes the cached ELF tables take, and how many files.
    var cachedFiles: (count: Int, bytes: Int) {
        files.withLockedValue { ($0.count, $0.values.reduce(0) { $0 + $1.byteCount }) }
    }

    /// The symbols of the file mapped at `mapping` in process `pid`: through
    /// /proc/PID/map_files (the very file mapped, even if replaced since),
    /// else the path under the process's root.
    func symbols(of mapping: ProcessMappings.Mapping, pid: Int32) -> ELFSymbols? {
        var fd = open("/proc/\(pid)/map_files/\(String(mapping.start, radix: 16))-\(String(mapping.end, radix: 16))", O_RDONLY | O_CLOEXEC)
        if fd < 0 { fd = open("/proc/\(pid)/root\(mapping.path)", O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let identity = "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        if let known = files.withLockedValue({ $0[identity] }) { return known }
        guard let read = ELFSymbols(fd: fd) else { return nil }
        files.withLockedValue { cache in
            if cache.count >= Self.maxFiles { cache.removeAll() }
            cache[identity] = read
        }
        return read
    }

    /// Where user addresses are read: a process's mappings, or why not.
    enum UserSpace {
        case process(ProcessMappings)
        case unknown(String)
    }

    /// `[{"address":"0x…","symbol":…,"offset":N,"module":…}, …]`, innermost
    /// first, up to the first 0 (a stack shorter than the map's depth).
    /// Kernel addresses through kallsyms, user ones through `user`'s
    /// mappings and their files' symbol tables (`buildId` then names the
    /// file). An address that cannot be read stays hex with a `reason`.
    /// Past the first frame each address is a return address: the call
    /// before it is looked up.
    func writeFrames(_ addresses: [UInt64], kernel: KernelSymbols, user: UserSpace, to out: inout JSONWriter) {
        out.byte(UInt8(ascii: "["))
        for (index, address) in addresses.prefix(while: { $0 != 0 }).enumerated() {
            if index > 0 { out.byte(UInt8(ascii: ",")) }
            out.raw("{\"address\":")
            out.string("0x" + String(address, radix: 16))
            let back: UInt64 = index > 0 ? 1 : 0
            if address >= KernelSymbols.kernelSpaceStart {
                guard let place = kernel.place(of: address - back) else {
                    reason(kernel.count == 0 ? "kallsyms shows no kernel addresses to bpfleetd" : "in no kernel function kallsyms lists", &out)
                    continue
                }
                out.raw(",\"symbol\":")
                out.string(place.symbol)
                out.raw(",\"offset\":")
                out.uint(place.offset + back)
                if let module = place.module {
                    out.raw(",\"module\":")
                    out.string(module)
                }
                out.byte(UInt8(ascii: "}"))
                continue
            }
            guard case .process(let process) = user else {
                if case .unknown(let why) = user { reason(why, &out) }
                continue
            }
            guard let mapping = process.mapping(of: address - back) else {
                reason("in no file mapping of process \(process.pid)", &out)
                continue
            }
            let fileOffset = address - back - mapping.start + mapping.fileOffset
            guard let file = symbols(of: mapping, pid: process.pid), let place = file.place(fileOffset: fileOffset) else {
                out.raw(",\"module\":")
                out.string(mapping.path)
                reason("in no function of \(mapping.path)'s symbol tables", &out)
                continue
            }
            out.raw(",\"symbol\":")
            out.string(place.symbol)
            out.raw(",\"offset\":")
            out.uint(place.offset + back)
            out.raw(",\"module\":")
            out.string(mapping.path)
            if let id = file.buildID {
                out.raw(",\"buildId\":")
                out.string(id)
            }
            out.byte(UInt8(ascii: "}"))
        }
        out.byte(UInt8(ascii: "]"))
    }

    private func reason(_ text: String, _ out: inout JSONWriter) {
        out.raw(",\"reason\":")
        out.string(text)
        out.byte(UInt8(ascii: "}"))
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
    /// The member naming the process of the user stacks: `tgid`, else `pid`.
    var process: Field?

    init(key: BTFType?, value: BTFType?) {
        fields = Self.find(in: key, inKey: true) + Self.find(in: value, inKey: false)
        let processes = Self.find(in: key, inKey: true, matching: { ["tgid", "pid"].contains($0.lowercased()) })
            + Self.find(in: value, inKey: false, matching: { ["tgid", "pid"].contains($0.lowercased()) })
        process = processes.first { $0.name.lowercased() == "tgid" } ?? processes.first
    }

    static func isStackID(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.contains("stack") && (lower.hasSuffix("id") || lower == "kstack" || lower == "ustack")
    }

    private static func find(in type: BTFType?, inKey: Bool, matching: (String) -> Bool = isStackID) -> [Field] {
        guard case .structure(_, _, let members)? = type else { return [] }
        return members.compactMap { member in
            guard member.bitfieldSize == 0, member.bitOffset % 8 == 0, matching(member.name),
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

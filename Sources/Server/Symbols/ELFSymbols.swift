import CBPFSupport
import Foundation

/// One ELF file's functions, executable segments and build id, read with
/// libelf (`bpfleet_elf_symbols_read`): what a user-space address of a
/// process that maps the file reads as. The file may be anyone's: counts
/// are bounded, and nothing here trusts an address the file gives.
final class ELFSymbols: Sendable {
    private let addresses: [UInt64]
    private let sizes: [UInt64]
    private let nameStarts: [UInt32]
    private let names: [UInt8]
    private let segments: [(offset: UInt64, vaddr: UInt64, size: UInt64)]
    /// The GNU build id, lowercase hex; nil when the file has none.
    let buildID: String?

    static let maxFunctions = 1 << 21
    static let maxNameBytes = 64 << 20

    var count: Int { addresses.count }
    var byteCount: Int { addresses.count * 20 + names.count + segments.count * 24 }

    /// The file open at `fd`; nil when libelf cannot read it or it passes a bound.
    init?(fd: Int32) {
        var raw = bpfleet_elf_symbols()
        defer { bpfleet_elf_symbols_free(&raw) }
        guard bpfleet_elf_symbols_read(fd, Self.maxFunctions, Self.maxNameBytes, &raw) == 0 else { return nil }
        var functions: [(address: UInt64, size: UInt64, name: UInt32)] = []
        functions.reserveCapacity(raw.function_count)
        if let table = raw.functions {
            for index in 0..<raw.function_count {
                let function = table[index]
                guard Int(function.name) < raw.names_size else { continue }
                functions.append((function.address, function.size, function.name))
            }
        }
        functions.sort { $0.address < $1.address }
        let blob = raw.names.map { UnsafeRawBufferPointer(start: $0, count: raw.names_size) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
        var names: [UInt8] = []
        var nameStarts: [UInt32] = []
        for function in functions {
            nameStarts.append(UInt32(truncatingIfNeeded: names.count))
            var end = Int(function.name)
            while end < blob.count, blob[end] != 0 { end += 1 }
            names.append(contentsOf: blob[Int(function.name)..<end])
        }
        nameStarts.append(UInt32(truncatingIfNeeded: names.count))
        addresses = functions.map(\.address)
        sizes = functions.map(\.size)
        self.nameStarts = nameStarts
        self.names = names
        var segments: [(offset: UInt64, vaddr: UInt64, size: UInt64)] = []
        if let table = raw.segments {
            for index in 0..<raw.segment_count {
                segments.append((table[index].offset, table[index].vaddr, table[index].size))
            }
        }
        self.segments = segments
        let idBytes = withUnsafeBytes(of: raw.build_id) { Array($0.prefix(min(raw.build_id_size, 64))) }
        buildID = idBytes.isEmpty ? nil : idBytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The function holding the byte at `fileOffset` of the file, and the
    /// offset in it: the offset moved to the file's virtual addresses
    /// through its executable segment, then the last function at or below,
    /// within its size (or 1 MiB when the symbol has none).
    func place(fileOffset: UInt64) -> (symbol: String, offset: UInt64)? {
        guard let segment = segments.first(where: { fileOffset >= $0.offset && fileOffset - $0.offset < $0.size }) else { return nil }
        let (vaddr, overflow) = (fileOffset - segment.offset).addingReportingOverflow(segment.vaddr)
        guard !overflow else { return nil }
        guard let index = addresses.lastIndex(atOrBelow: vaddr) else { return nil }
        let offset = vaddr - addresses[index]
        guard offset < (sizes[index] > 0 ? sizes[index] : 1 << 20) else { return nil }
        return (String(decoding: names[Int(nameStarts[index])..<Int(nameStarts[index + 1])], as: UTF8.self), offset)
    }
}

/// A process's executable file mappings, from /proc/PID/maps.
struct ProcessMappings: Sendable {
    struct Mapping: Sendable {
        var start: UInt64
        var end: UInt64
        var fileOffset: UInt64
        /// As /proc/PID/maps names it.
        var path: String
    }
    let pid: Int32
    let mappings: [Mapping]

    /// nil when the process is gone (or its maps cannot be read).
    init?(pid: Int32) {
        let text = KernelSymbols.readProcFile("/proc/\(pid)/maps", limit: 64 << 20)
        guard !text.isEmpty else { return nil }
        self.init(pid: pid, parsing: text)
    }

    /// `START-END PERMS OFFSET DEV INODE PATH` lines; executable mappings of a file kept.
    init(pid: Int32, parsing text: [UInt8]) {
        self.pid = pid
        var mappings: [Mapping] = []
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1].count >= 3, fields[1][fields[1].startIndex + 2] == UInt8(ascii: "x") else { continue }
            let range = fields[0].split(separator: UInt8(ascii: "-"))
            guard range.count == 2, let start = UInt64(String(decoding: range[0], as: UTF8.self), radix: 16),
                  let end = UInt64(String(decoding: range[1], as: UTF8.self), radix: 16),
                  let offset = UInt64(String(decoding: fields[2], as: UTF8.self), radix: 16), start < end else { continue }
            let path = String(decoding: fields[5].drop { $0 == UInt8(ascii: " ") }, as: UTF8.self)
            guard path.hasPrefix("/") else { continue }
            mappings.append(Mapping(start: start, end: end, fileOffset: offset, path: path))
        }
        self.mappings = mappings
    }

    func mapping(of address: UInt64) -> Mapping? {
        mappings.first { address >= $0.start && address < $0.end }
    }
}

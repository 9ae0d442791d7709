import Foundation

/// The kernel's text symbols, as /proc/kallsyms lists them: sorted by
/// address, so that an address of a kernel stack reads as the function it
/// is in, its offset there and its module. The names are kept in one byte
/// buffer (a kernel has some 100,000 functions).
final class KernelSymbols: Sendable {
    private let addresses: [UInt64]
    /// Every 16th address: a search looks here first (small enough to
    /// stay in cache), then in one block of 16.
    private let sampled: [UInt64]
    /// Where each name starts in `names`, and one past the last.
    private let nameStarts: [UInt32]
    private let names: [UInt8]
    /// Whether every name is a label value as it is (printable ASCII, no
    /// `\` or `"`), so `appendName` copies without looking.
    private let namesArePlain: Bool
    /// Each symbol's module, an index into `modules`; 0 is the kernel itself.
    private let moduleIndex: [UInt16]
    private let modules: [String]

    /// Addresses below this are user space (x86-64 and arm64 kernels live in the upper half).
    static let kernelSpaceStart: UInt64 = 0xffff_8000_0000_0000
    /// The farthest an address may be past a symbol and still be in it
    /// (kallsyms has no sizes; past the last symbol nothing bounds it).
    static let largestFunction: UInt64 = 1 << 20

    var count: Int { addresses.count }

    /// Bytes the table takes.
    var byteCount: Int { addresses.count * 8 + sampled.count * 8 + nameStarts.count * 4 + names.count + moduleIndex.count * 2 }

    /// A frame's place: the symbol, the offset in it, the module (nil for the kernel's own text).
    struct Place: Sendable, Equatable {
        var symbol: String
        var offset: UInt64
        var module: String?
    }

    /// Reads `path`; an empty table when it cannot be read or shows no
    /// addresses (kptr_restrict: every address 0).
    convenience init(path: String = "/proc/kallsyms") {
        self.init(parsing: Self.readProcFile(path, limit: 256 << 20))
    }

    /// A /proc file's bytes, read to its end (it reports a size of 0, so
    /// whole-file readers that trust the size stop short), at most `limit`.
    static func readProcFile(_ path: String, limit: Int) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        return readAll(fd, limit: limit)
    }

    /// An open /proc file's bytes from its start, at most `limit`.
    static func readAll(_ fd: Int32, limit: Int) -> [UInt8] {
        guard lseek(fd, 0, SEEK_SET) == 0 else { return [] }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// Parses kallsyms text: `ADDRESS TYPE NAME[\t[MODULE]]` lines; keeps
    /// the text symbols (types t, T, w, W). Lines that do not read so are skipped.
    init(parsing text: [UInt8]) {
        var entries: [(address: UInt64, name: Range<Int>, module: UInt16)] = []
        var modules = [""]
        var moduleIndices: [ArraySlice<UInt8>: UInt16] = [:]
        var lineStart = 0
        while lineStart < text.count {
            var lineEnd = lineStart
            while lineEnd < text.count, text[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            // ADDRESS
            var index = lineStart
            var address: UInt64 = 0
            var digits = 0
            while index < lineEnd, let nibble = Self.hexValue(text[index]), digits < 16 {
                address = address << 4 | UInt64(nibble)
                index += 1
                digits += 1
            }
            guard digits > 0, index + 3 < lineEnd, text[index] == UInt8(ascii: " "), text[index + 2] == UInt8(ascii: " ") else { continue }
            let type = text[index + 1]
            guard type == UInt8(ascii: "t") || type == UInt8(ascii: "T") || type == UInt8(ascii: "w") || type == UInt8(ascii: "W"),
                  address != 0 else { continue }
            let nameStart = index + 3
            var nameEnd = nameStart
            while nameEnd < lineEnd, text[nameEnd] != UInt8(ascii: "\t"), text[nameEnd] != UInt8(ascii: " ") { nameEnd += 1 }
            guard nameEnd > nameStart else { continue }
            var module: UInt16 = 0
            if let open = text[nameEnd..<lineEnd].firstIndex(of: UInt8(ascii: "[")),
               let close = text[open..<lineEnd].firstIndex(of: UInt8(ascii: "]")), close > open + 1 {
                let name = text[(open + 1)..<close]
                if let known = moduleIndices[name] {
                    module = known
                } else if modules.count < Int(UInt16.max) {
                    module = UInt16(modules.count)
                    moduleIndices[name] = module
                    modules.append(String(decoding: name, as: UTF8.self))
                }
            }
            entries.append((address, nameStart..<nameEnd, module))
        }
        entries.sort { $0.address < $1.address }
        var addresses: [UInt64] = []
        var nameStarts: [UInt32] = []
        var names: [UInt8] = []
        var moduleIndex: [UInt16] = []
        addresses.reserveCapacity(entries.count)
        nameStarts.reserveCapacity(entries.count + 1)
        moduleIndex.reserveCapacity(entries.count)
        for entry in entries where names.count + entry.name.count < Int(UInt32.max) {
            addresses.append(entry.address)
            nameStarts.append(UInt32(names.count))
            names.append(contentsOf: text[entry.name])
            moduleIndex.append(entry.module)
        }
        nameStarts.append(UInt32(names.count))
        self.addresses = addresses
        self.sampled = stride(from: 0, to: addresses.count, by: Self.block).map { addresses[$0] }
        self.nameStarts = nameStarts
        self.names = names
        self.namesArePlain = names.allSatisfy { $0 >= 0x20 && $0 < 0x80 && $0 != 0x5C && $0 != 0x22 }
        self.moduleIndex = moduleIndex
        self.modules = modules
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static let block = 16

    /// The index of the last symbol at or below `address`: its block
    /// through `sampled`, then the symbol within the block.
    func index(atOrBelow address: UInt64) -> Int? {
        guard let block = sampled.lastIndex(atOrBelow: address) else { return nil }
        var low = block * Self.block
        var high = min(low + Self.block, addresses.count)
        while low < high {
            let middle = (low + high) / 2
            if addresses[middle] <= address { low = middle + 1 } else { high = middle }
        }
        return low - 1
    }

    /// Appends the name of the symbol `address` is in to `out`, as a
    /// Prometheus label value (escaped where it must be); false, with
    /// nothing appended, when no symbol holds it.
    func appendName(of address: UInt64, to out: inout [UInt8]) -> Bool {
        guard let index = index(atOrBelow: address), address - addresses[index] < Self.largestFunction else { return false }
        let range = Int(nameStarts[index])..<Int(nameStarts[index + 1])
        names.withUnsafeBufferPointer { all in
            if namesArePlain {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: all[range]))
            } else {
                MapExportText.appendLabelValue(UnsafeBufferPointer(rebasing: all[range]), to: &out)
            }
        }
        return true
    }

    /// The symbol `address` is in: the last one at or below it, within
    /// `largestFunction`; nil below the first symbol or past that.
    func place(of address: UInt64) -> Place? {
        guard let index = index(atOrBelow: address) else { return nil }
        let offset = address - addresses[index]
        guard offset < Self.largestFunction else { return nil }
        let name = String(decoding: names[Int(nameStarts[index])..<Int(nameStarts[index + 1])], as: UTF8.self)
        let module = moduleIndex[index] == 0 ? nil : modules[Int(moduleIndex[index])]
        return Place(symbol: name, offset: offset, module: module)
    }
}

extension [UInt64] {
    /// In a sorted array, the index of the last element at or below
    /// `value`; nil when every element is above it.
    func lastIndex(atOrBelow value: UInt64) -> Int? {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? low - 1 : nil
    }
}

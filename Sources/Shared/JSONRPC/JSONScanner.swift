/// Finds the top-level members of a JSON object without building a tree:
/// the client uses it to route responses by id and to hand a large `result`
/// (a million-entry snapshot) to its output untouched.
public struct JSONScanner {
    public struct ScanError: Error, CustomStringConvertible {
        public var offset: Int
        public var description: String { "malformed JSON at byte \(offset)" }
    }

    /// Each top-level member's name and the byte range of its value.
    public static func members(of bytes: UnsafeRawBufferPointer) throws -> [(name: String, range: Range<Int>)] {
        var scanner = Cursor(bytes: bytes)
        var result: [(String, Range<Int>)] = []
        scanner.skipWhitespace()
        try scanner.expect(UInt8(ascii: "{"))
        scanner.skipWhitespace()
        if scanner.peek == UInt8(ascii: "}") { return [] }
        while true {
            scanner.skipWhitespace()
            let nameRange = try scanner.skipString()
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(nameRange.lowerBound + 1)..<(nameRange.upperBound - 1)]), as: UTF8.self)
            scanner.skipWhitespace()
            try scanner.expect(UInt8(ascii: ":"))
            scanner.skipWhitespace()
            let start = scanner.offset
            try scanner.skipValue()
            result.append((name, start..<scanner.offset))
            scanner.skipWhitespace()
            if scanner.peek == UInt8(ascii: ",") {
                scanner.offset += 1
                continue
            }
            try scanner.expect(UInt8(ascii: "}"))
            return result
        }
    }

    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
        }

        mutating func expect(_ byte: UInt8) throws {
            guard peek == byte else { throw ScanError(offset: offset) }
            offset += 1
        }

        mutating func skipString() throws -> Range<Int> {
            let start = offset
            try expect(UInt8(ascii: "\""))
            while let byte = peek {
                offset += 1
                if byte == UInt8(ascii: "\\") {
                    offset += 1
                } else if byte == UInt8(ascii: "\"") {
                    return start..<offset
                }
            }
            throw ScanError(offset: offset)
        }

        mutating func skipValue() throws {
            guard let byte = peek else { throw ScanError(offset: offset) }
            switch byte {
            case UInt8(ascii: "\""):
                _ = try skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                // A stack of the closers owed; strings are skipped whole, so
                // a bracket inside one never counts.
                var closers: [UInt8] = []
                while let current = peek {
                    switch current {
                    case UInt8(ascii: "\""):
                        _ = try skipString()
                        continue
                    case UInt8(ascii: "{"):
                        closers.append(UInt8(ascii: "}"))
                    case UInt8(ascii: "["):
                        closers.append(UInt8(ascii: "]"))
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        guard closers.popLast() == current else { throw ScanError(offset: offset) }
                    default:
                        break
                    }
                    offset += 1
                    if closers.isEmpty { return }
                }
                throw ScanError(offset: offset)
            default:
                let start = offset
                while let current = peek, current != UInt8(ascii: ","), current != UInt8(ascii: "}"),
                      current != UInt8(ascii: "]"), current != 0x20, current != 0x0A, current != 0x0D, current != 0x09 {
                    offset += 1
                }
                if offset == start { throw ScanError(offset: offset) }
            }
        }
    }
}

/// The byte ranges of the elements of a JSON array, found without building
/// a tree: table output of a million-entry snapshot shows each key and value
/// as the node wrote it (struct fields in order) and never decodes them.
///
/// Shared's `JSONScanner` does the same for object members; this is its
/// counterpart for arrays.
enum JSONElements {
    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var description: String { "malformed JSON array at byte \(offset)" }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    static func ranges(of bytes: UnsafeRawBufferPointer) throws -> [Range<Int>] {
        var offset = 0
        func skipWhitespace() {
            while offset < bytes.count, isWhitespace(bytes[offset]) { offset += 1 }
        }
        func skipString() throws {
            offset += 1  // the opening quote
            while offset < bytes.count {
                switch bytes[offset] {
                case UInt8(ascii: "\\"): offset += 2
                case UInt8(ascii: "\""): offset += 1; return
                default: offset += 1
                }
            }
            throw Malformed(offset: offset)
        }
        /// Skips one value; strings are skipped whole, so a bracket inside
        /// one never counts toward nesting.
        func skipValue() throws {
            var depth = 0
            while offset < bytes.count {
                let byte = bytes[offset]
                switch byte {
                case UInt8(ascii: "\""):
                    try skipString()
                    if depth == 0 { return }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return }  // end of the enclosing array
                    depth -= 1
                    if depth == 0 { offset += 1; return }
                case UInt8(ascii: ","), 0x20, 0x0A, 0x0D, 0x09:  // JSON whitespace
                    if depth == 0 { return }
                default:
                    break
                }
                offset += 1
            }
            if depth != 0 { throw Malformed(offset: offset) }
        }

        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "[") else { throw Malformed(offset: offset) }
        offset += 1
        skipWhitespace()
        var ranges: [Range<Int>] = []
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { return ranges }
        while true {
            skipWhitespace()
            let start = offset
            try skipValue()
            guard offset > start else { throw Malformed(offset: offset) }
            ranges.append(start..<offset)
            skipWhitespace()
            guard offset < bytes.count else { throw Malformed(offset: offset) }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
            } else if bytes[offset] == UInt8(ascii: "]") {
                return ranges
            } else {
                throw Malformed(offset: offset)
            }
        }
    }
}

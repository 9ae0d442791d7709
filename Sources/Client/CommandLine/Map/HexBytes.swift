import ArgumentParser
import BpfleetShared

/// A key or value as raw bytes on the command line (`--format hex`), as
/// bpftool's `key hex 01 02 0a` writes them: bytes of two hex digits,
/// separated by spaces or run together (`01 02 0a`, `01020a`, `0102 0a`);
/// a group of one digit is one byte (`1 2 a`), and a group may start with
/// `0x`. On the wire they travel as one lowercase hex string (`01020a`).
enum HexBytes {
    /// The bytes `text` gives, or a usage error naming the argument and the
    /// group that is wrong.
    static func parse(_ text: String, argument: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for group in text.split(whereSeparator: \.isWhitespace) {
            var digits = group
            if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
            guard !digits.isEmpty else {
                throw ValidationError("\(argument): '\(group)' is not hex bytes (give bytes as 01 02 0a or 01020a)")
            }
            if let bad = digits.first(where: { !isHexDigit($0) }) {
                throw ValidationError("\(argument): '\(group)' is not hex bytes: '\(bad)' is not a hex digit (give bytes as 01 02 0a or 01020a)")
            }
            if digits.count == 1, let byte = UInt8(digits, radix: 16) {
                bytes.append(byte)
                continue
            }
            guard digits.count % 2 == 0 else {
                throw ValidationError("\(argument): '\(group)' has an odd number of hex digits (\(digits.count)); each byte is two (01 02 0a or 01020a)")
            }
            var index = digits.startIndex
            while index != digits.endIndex {
                let next = digits.index(index, offsetBy: 2)
                guard let byte = UInt8(digits[index..<next], radix: 16) else {
                    throw ValidationError("\(argument): '\(group)' is not hex bytes (give bytes as 01 02 0a or 01020a)")
                }
                bytes.append(byte)
                index = next
            }
        }
        guard !bytes.isEmpty else {
            throw ValidationError("\(argument): no bytes given (give bytes as 01 02 0a or 01020a)")
        }
        return bytes
    }

    /// 0-9, a-f, A-F (not the other digits Unicode calls hex).
    private static func isHexDigit(_ character: Character) -> Bool {
        character.isASCII && character.isHexDigit
    }

    /// The bytes as the wire carries them: `01020a`.
    static func wire(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// A key or value the node wrote in hex (the JSON text of a string of
    /// hex digits, or of a per-CPU list of them) as bpftool prints bytes:
    /// `01 02 0a`, and `[01 02, 03 04]` for a list. Any other JSON text is
    /// returned as it is.
    static func display(_ json: String) -> String {
        func spaced(_ text: Substring) -> String? {
            let digits = text.dropFirst().dropLast()
            guard text.count >= 2, text.first == "\"", text.last == "\"", digits.count % 2 == 0,
                  digits.allSatisfy(isHexDigit) else { return nil }
            var pairs: [Substring] = []
            var index = digits.startIndex
            while index != digits.endIndex {
                let next = digits.index(index, offsetBy: 2)
                pairs.append(digits[index..<next])
                index = next
            }
            return pairs.joined(separator: " ")
        }
        if let one = spaced(Substring(json)) { return one }
        guard json.first == "[", json.last == "]" else { return json }
        let items = json.dropFirst().dropLast().split(separator: ",")
        let shown = items.compactMap { spaced($0) }
        guard !items.isEmpty, shown.count == items.count else { return json }
        return "[" + shown.joined(separator: ", ") + "]"
    }
}

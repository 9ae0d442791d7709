import BpfleetShared
import Foundation
import NIOCore
import Yams

/// `-o yaml`: the JSON the commands write, as YAML that a YAML parser reads
/// back to the same data. Keys are sorted, strings that would read back as
/// something else (`"true"`, `"0x10"`, `"1e3"`) are quoted, numbers keep
/// their type, and text of several lines (a verifier's log) is a literal
/// block.
enum YAMLText {
    /// One value as a YAML document, with `---` before every document but
    /// the first.
    static func document(_ value: JSONValue, first: Bool) -> String {
        let text = (try? Yams.serialize(node: node(value), width: -1, allowUnicode: true, newLineScalarStyle: .literal))
            ?? "\(value)\n"
        return first ? text : "---\n" + text
    }

    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null:
            return Node("null", Tag(.null))
        case .bool(let flag):
            return Node(flag ? "true" : "false", Tag(.bool))
        case .int(let number):
            return Node(String(number), Tag(.int))
        case .uint(let number):
            return Node(String(number), Tag(.int))
        case .double(let number):
            return Node(floatText(number), Tag(.float))
        case .string(let text):
            return Node(text.represented().string, Tag(.str), text.represented().style)
        case .array(let elements):
            return Node(elements.map(node))
        case .object(let members):
            return Node(members.sorted { $0.key < $1.key }.map { (Node($0.key.represented().string, Tag(.str), $0.key.represented().style), node($0.value)) })
        }
    }

    /// A double as YAML 1.1 reads a float back: with a decimal point
    /// (`1e+20` alone would read as text).
    static func floatText(_ number: Double) -> String {
        guard number.isFinite else { return number.isNaN ? ".nan" : (number < 0 ? "-.inf" : ".inf") }
        let text = String(number)
        if text.contains(".") { return text }
        if let exponent = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            return text[..<exponent] + ".0" + text[exponent...]
        }
        return text + ".0"
    }

    /// The whole JSON values at the start of `buffer` (separated by white
    /// space, as `-o json` and `-o ndjson` write them), and what is left
    /// after the last one and the space after it: a value still being
    /// written.
    static func wholeJSONValues(_ buffer: ByteBuffer) -> (values: [JSONValue], rest: ByteBuffer) {
        var values: [JSONValue] = []
        var consumed = 0
        buffer.withUnsafeReadableBytes { bytes in
            var index = 0
            while true {
                while index < bytes.count, isSpace(bytes[index]) { index += 1 }
                consumed = index
                guard index < bytes.count, let end = valueEnd(bytes, from: index) else { break }
                let slice = Data(bytes[index..<end])
                let value = (try? JSONDecoder().decode(JSONValue.self, from: slice))
                    ?? .string(String(decoding: slice, as: UTF8.self))
                values.append(value)
                index = end
                consumed = end
            }
        }
        var rest = buffer
        rest.moveReaderIndex(forwardBy: consumed)
        return (values, rest.slice())
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Where the value starting at `start` ends, or nil when it has not
    /// ended yet. Arrays and objects end at their closing bracket (strings
    /// inside skipped, escapes and all); a bare scalar ends at white space.
    private static func valueEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        let opening = bytes[start]
        guard opening == UInt8(ascii: "[") || opening == UInt8(ascii: "{") else {
            var index = start
            while index < bytes.count, !isSpace(bytes[index]) { index += 1 }
            return index < bytes.count ? index : nil
        }
        var depth = 0
        var inString = false
        var escaped = false
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return index + 1 }
            }
            index += 1
        }
        return nil
    }
}

import BpfleetShared
import NIOCore

/// Writes JSON text straight into a ByteBuffer: the snapshot path encodes a
/// million entries without building a tree or going through Codable.
public struct JSONWriter {
    public var buffer: ByteBuffer

    public init(buffer: ByteBuffer) {
        self.buffer = buffer
    }

    @inline(__always)
    public mutating func raw(_ text: StaticString) {
        buffer.writeStaticString(text)
    }

    @inline(__always)
    public mutating func byte(_ byte: UInt8) {
        buffer.writeInteger(byte)
    }

    public mutating func bytes(_ bytes: some Sequence<UInt8>) {
        buffer.writeBytes(bytes)
    }

    public mutating func bytes(_ bytes: ByteBuffer) {
        var copy = bytes
        buffer.writeBuffer(&copy)
    }

    public mutating func uint(_ value: UInt64) {
        // Straight into the buffer's memory: one capacity check per number,
        // not one per digit (the snapshot path writes millions of them).
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { out in
            var digits = 1
            var rest = value / 10
            while rest > 0 {
                digits &+= 1
                rest /= 10
            }
            var value = value
            var index = digits
            repeat {
                index &-= 1
                let (quotient, remainder) = value.quotientAndRemainder(dividingBy: 10)
                out[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remainder)
                value = quotient
            } while index > 0
            return digits
        }
    }

    public mutating func int(_ value: Int64) {
        if value < 0 {
            byte(UInt8(ascii: "-"))
            uint(value.magnitude)
        } else {
            uint(UInt64(value))
        }
    }

    public mutating func double(_ value: Double) {
        if value.isFinite {
            buffer.writeString(value.description)
        } else {
            raw("null")
        }
    }

    /// A `float` by its own shortest form (0.1, not 0.10000000149011612).
    public mutating func float(_ value: Float) {
        if value.isFinite {
            buffer.writeString(value.description)
        } else {
            raw("null")
        }
    }

    public mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// A JSON string from UTF-8 bytes, escaped as RFC 8259 requires.
    public mutating func string(utf8: UnsafeRawBufferPointer) {
        byte(UInt8(ascii: "\""))
        stringBody(utf8: utf8)
        byte(UInt8(ascii: "\""))
    }

    /// The inside of a JSON string, escaped, without its quotes: a string
    /// written in pieces.
    public mutating func stringBody(_ value: String) {
        var value = value
        value.withUTF8 { stringBody(utf8: UnsafeRawBufferPointer($0)) }
    }

    public mutating func stringBody(utf8: UnsafeRawBufferPointer) {
        var start = 0
        for index in 0..<utf8.count {
            let c = utf8[index]
            guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
            if start < index { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: utf8[start..<index])) }
            switch c {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            default:
                raw("\\u00")
                byte(Self.hexDigits[Int(c >> 4)])
                byte(Self.hexDigits[Int(c & 0xF)])
            }
            start = index + 1
        }
        if start < utf8.count { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: utf8[start..<utf8.count])) }
    }

    /// Bytes as a lowercase hex JSON string.
    public mutating func hexString(_ bytes: UnsafeRawBufferPointer) {
        byte(UInt8(ascii: "\""))
        buffer.reserveCapacity(minimumWritableBytes: bytes.count * 2 + 1)
        for b in bytes {
            byte(Self.hexDigits[Int(b >> 4)])
            byte(Self.hexDigits[Int(b & 0xF)])
        }
        byte(UInt8(ascii: "\""))
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): bool(flag)
        case .int(let number): int(number)
        case .uint(let number): uint(number)
        case .double(let number): double(number)
        case .string(let text): string(text)
        case .array(let elements):
            byte(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { byte(UInt8(ascii: ",")) }
                self.value(element)
            }
            byte(UInt8(ascii: "]"))
        case .object(let fields):
            byte(UInt8(ascii: "{"))
            for (index, field) in fields.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { byte(UInt8(ascii: ",")) }
                string(field.key)
                byte(UInt8(ascii: ":"))
                self.value(field.value)
            }
            byte(UInt8(ascii: "}"))
        }
    }

    /// An object whose `numbers` members are written as the JSON number
    /// text they hold (a request id as it was sent), keys in order as
    /// `value` writes them.
    public mutating func object(_ fields: [String: JSONValue], numbers: [String: String]) {
        byte(UInt8(ascii: "{"))
        let keys = Set(fields.keys).union(numbers.keys).sorted()
        for (index, key) in keys.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            string(key)
            byte(UInt8(ascii: ":"))
            if let text = numbers[key] {
                bytes(text.utf8)
            } else if let field = fields[key] {
                value(field)
            }
        }
        byte(UInt8(ascii: "}"))
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

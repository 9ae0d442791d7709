import BpfleetShared

/// The number a map value stands for, read from its JSON text: the value
/// itself when it is a number; the sum over CPUs for a per-CPU list; a
/// struct's first field that has a number. A live table sorts by it and
/// shows its rate; integers are kept exact (64-bit counters included).
enum EntryNumber: Sendable, Hashable {
    case signed(Int64)
    case unsigned(UInt64)
    case real(Double)

    var double: Double {
        switch self {
        case .signed(let value): Double(value)
        case .unsigned(let value): Double(value)
        case .real(let value): value
        }
    }

    var isInteger: Bool {
        if case .real = self { return false }
        return true
    }

    /// `later - earlier`, exact for integers however large.
    static func difference(_ later: EntryNumber, _ earlier: EntryNumber) -> Double {
        switch (later, earlier) {
        case (.unsigned(let a), .unsigned(let b)):
            return a >= b ? Double(a - b) : -Double(b - a)
        default:
            if let a = later.int64, let b = earlier.int64 {
                let (difference, overflow) = a.subtractingReportingOverflow(b)
                if !overflow { return Double(difference) }
            }
            return later.double - earlier.double
        }
    }

    private var int64: Int64? {
        switch self {
        case .signed(let value): value
        case .unsigned(let value): Int64(exactly: value)
        case .real: nil
        }
    }

    static func + (a: EntryNumber, b: EntryNumber) -> EntryNumber {
        switch (a, b) {
        case (.unsigned(let x), .unsigned(let y)):
            let (sum, overflow) = x.addingReportingOverflow(y)
            return overflow ? .real(Double(x) + Double(y)) : .unsigned(sum)
        default:
            if let x = a.int64, let y = b.int64 {
                let (sum, overflow) = x.addingReportingOverflow(y)
                if !overflow { return sum >= 0 ? .unsigned(UInt64(sum)) : .signed(sum) }
            }
            return .real(a.double + b.double)
        }
    }

    /// The number of a value's JSON text; nil for strings (hex bytes, char
    /// arrays), booleans, null, and structs with no number in them.
    init?(json text: String) {
        var text = text
        guard let number = text.withUTF8({ Self.read(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = number
    }

    /// A number's own text (`42`, `-1`, `18446744073709551615`, `1.5`).
    init?(literal text: String) {
        if let value = UInt64(text) {
            self = .unsigned(value)
        } else if let value = Int64(text) {
            self = .signed(value)
        } else if let value = Double(text), value.isFinite {
            self = .real(value)
        } else {
            return nil
        }
    }

    private static func read(_ bytes: UnsafeRawBufferPointer) -> EntryNumber? {
        guard let start = bytes.firstIndex(where: { !isWhitespace($0) }) else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "{"):
            // A struct: its first field that has a number.
            guard let members = try? JSONScanner.members(of: bytes) else { return nil }
            for member in members {
                if let number = read(UnsafeRawBufferPointer(rebasing: bytes[member.range])) { return number }
            }
            return nil
        case UInt8(ascii: "["):
            // A per-CPU list (or an array field): the sum, when every element has a number.
            guard let ranges = try? JSONElements.ranges(of: bytes), !ranges.isEmpty else { return nil }
            var sum = EntryNumber.unsigned(0)
            for range in ranges {
                guard let number = read(UnsafeRawBufferPointer(rebasing: bytes[range])) else { return nil }
                sum = sum + number
            }
            return sum
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            var end = bytes.count
            while end > start, isWhitespace(bytes[end - 1]) { end -= 1 }
            return EntryNumber(literal: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
        default:
            return nil
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

import Foundation

/// The Prometheus text format's pieces, written as bytes: numbers, label
/// values and help text escaped as the format wants.
enum MapExportText {
    /// A number as the exposition writes it: whole numbers (up to 2^53)
    /// without a fraction, others as Swift's shortest round-trip text,
    /// which Prometheus' parser reads (`1e-06`, `0.5`).
    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value.isNaN { return "NaN" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        // 15 significant digits: 1023 * 0.000001 is 0.001023, not the
        // 0.0010230000000000001 the product holds.
        return String(format: "%.15g", value)
    }

    static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    /// A label value inside its quotes: `\`, `"` and newlines escaped,
    /// bytes that are not UTF-8 replaced (U+FFFD).
    static func appendLabelValue(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        let plain = bytes.withContiguousStorageIfAvailable { buffer in
            for byte in buffer where byte < 0x20 || byte >= 0x80 || byte == 0x5C || byte == 0x22 { return false }
            out.append(contentsOf: buffer)
            return true
        }
        if plain == true { return }
        if plain == nil, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x80 && $0 != 0x5C && $0 != 0x22 }) {
            out.append(contentsOf: bytes)
            return
        }
        for scalar in String(decoding: Array(bytes), as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: [0x5C, 0x5C])
            case "\"": out.append(contentsOf: [0x5C, 0x22])
            case "\n": out.append(contentsOf: [0x5C, 0x6E])
            default: out.append(contentsOf: String(scalar).utf8)
            }
        }
    }

    /// A help text: `\` and newlines escaped.
    static func help(_ text: String) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(0x30 + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 20 digits at most
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[23 - count] = 0x30 + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            out.append(contentsOf: buffer[(24 - count)...])
        }
    }

    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(0x2D)
            appendDecimal(value.magnitude, to: &out)
        } else {
            appendDecimal(UInt64(value), to: &out)
        }
    }
}

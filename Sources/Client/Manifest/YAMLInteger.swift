import BpfleetShared

/// An integer as a manifest writes it, kept exact over the whole signed
/// and unsigned 64-bit range: decimal, `0x` hex, `0o` octal or `0b`
/// binary, with an optional sign and `_` between digits.
///
/// Two YAML 1.1 forms are refused rather than guessed at: a leading zero
/// (`0755` is octal to YAML 1.1 and decimal to most people) and base 60
/// (`1:30`, which YAML 1.1 reads as 90).
enum YAMLInteger {
    struct Problem: Error {
        var message: String
    }

    static func parse(_ text: String) throws(Problem) -> JSONValue {
        var digits = Substring(text.replacingOccurrences(of: "_", with: ""))
        let negative = digits.hasPrefix("-")
        if negative || digits.hasPrefix("+") { digits = digits.dropFirst() }
        if digits.contains(":") {
            throw Problem(message: "'\(text)' is a base-60 number to YAML 1.1; write it in decimal, or quote it for a string")
        }
        var radix = 10
        for (prefix, base) in [("0x", 16), ("0X", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            radix = base
            digits = digits.dropFirst(2)
        }
        if radix == 10, digits.count > 1, digits.hasPrefix("0") {
            let sign = negative ? "-" : ""
            let significant = digits.drop { $0 == "0" }
            let decimal = sign + (significant.isEmpty ? "0" : significant)
            throw Problem(message: "'\(text)' has a leading zero, which YAML 1.1 reads as octal: write \(decimal) for decimal, "
                                   + "or \(sign)0o\(significant.isEmpty ? "0" : significant) for octal")
        }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else {
            if !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit }) {
                throw Problem(message: "\(text) is outside the 64-bit range (\(Int64.min) to \(UInt64.max))")
            }
            throw Problem(message: "'\(text)' is not an integer")
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else {
                throw Problem(message: "\(text) is outside the 64-bit range (\(Int64.min) to \(UInt64.max))")
            }
            return .int(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
        }
        return magnitude <= UInt64(Int64.max) ? .int(Int64(magnitude)) : .uint(magnitude)
    }
}

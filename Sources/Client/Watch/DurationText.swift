import Foundation

/// Durations as an operator writes them: `250ms`, `1s`, `1.5s`, `2m`, `1h`;
/// a bare number is seconds.
enum DurationText {
    struct Invalid: Error, CustomStringConvertible {
        var text: String
        var description: String { "'\(text)' is not a duration: write e.g. 250ms, 1s, 1.5s, 2m or 1h" }
    }

    static func parse(_ text: String) throws(Invalid) -> Duration {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, milliseconds: Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        var number = Substring(trimmed)
        var scale = 1000.0
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = trimmed.dropLast(unit.suffix.count)
            scale = unit.milliseconds
            break
        }
        // Digits and one point only: no signs, exponents, "inf" or "nan".
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.filter({ $0 == "." }).count <= 1, number != ".",
              let value = Double(number) else { throw Invalid(text: text) }
        let milliseconds = value * scale
        guard milliseconds.isFinite, milliseconds < 1e12 else { throw Invalid(text: text) }
        // Microseconds are as fine as anything here needs.
        return .microseconds(Int64((milliseconds * 1000).rounded()))
    }

    /// Whole milliseconds, rounded up (an interval for the wire).
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let whole = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        let rest = attoseconds % 1_000_000_000_000_000
        return Int(whole) + (rest > 0 ? 1 : 0)
    }
}

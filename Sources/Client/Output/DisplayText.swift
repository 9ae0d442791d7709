import Foundation

/// Small formatting for table cells.
enum DisplayText {
    static func date(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// "812 B", "14.2 KiB", "3.0 MiB"
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    /// "3d 4h 12m", "5m 3s", "42s"
    static func duration(seconds: Double) -> String {
        var rest = Int(seconds.rounded(.down))
        let days = rest / 86_400; rest %= 86_400
        let hours = rest / 3_600; rest %= 3_600
        let minutes = rest / 60
        let secs = rest % 60
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }

    /// "1.5 ms" for a run time in nanoseconds.
    static func nanoseconds(_ value: UInt64) -> String {
        switch value {
        case ..<1_000: "\(value) ns"
        case ..<1_000_000: String(format: "%.1f µs", Double(value) / 1e3)
        case ..<1_000_000_000: String(format: "%.1f ms", Double(value) / 1e6)
        default: String(format: "%.2f s", Double(value) / 1e9)
        }
    }

    static func labels(_ labels: [String: String]) -> String {
        labels.isEmpty ? "-" : labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    static func optional<T>(_ value: T?) -> String {
        value.map { "\($0)" } ?? "-"
    }
}

import BpfleetShared
import Foundation
import NIOCore

/// `map dump --stacks`: a symbolized snapshot as folded stacks, one line
/// per entry, `NAME;ROOT;...;LEAF COUNT`, as flame graph tools read them.
enum FoldedStacks {
    /// The lines of a `map.snapshot` result taken with `symbolize`: for a
    /// stack trace map each value's frames with count 1; for a map of
    /// stack ids, the entry's stacks (user then kernel, each root first)
    /// after the key's `comm` when it has one, counted by the value when
    /// it is a number (its first numeric field when a struct), else 1.
    static func lines(fromSnapshot buffer: ByteBuffer) throws -> [String] {
        let snapshot = try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        var lines: [String] = []
        for entry in array(snapshot["entries"]) {
            var parts: [String] = []
            var count: UInt64 = 1
            if case .object(let stacks)? = entry["stacks"] {
                if let comm = entry["key"]?["comm"]?.stringValue { parts.append(comm) }
                // User frames under kernel frames: a kernel stack is entered from user space.
                let ordered = stacks.sorted { isUser($0.key) && !isUser($1.key) || (isUser($0.key) == isUser($1.key) && $0.key < $1.key) }
                for (_, frames) in ordered { parts += names(frames) }
                count = number(in: entry["value"]) ?? 1
            } else {
                parts = names(entry["value"])
            }
            guard !parts.isEmpty else { continue }
            lines.append(parts.joined(separator: ";") + " \(count)")
        }
        return lines
    }

    private static func array(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let elements)? = value { return elements }
        return []
    }

    private static func isUser(_ field: String) -> Bool {
        let lower = field.lowercased()
        return lower.contains("user") || lower.hasPrefix("u")
    }

    /// A stack's frames, root first: symbols, or the address where there is none.
    private static func names(_ frames: JSONValue?) -> [String] {
        array(frames).reversed().compactMap { frame in
            frame["symbol"]?.stringValue ?? frame["address"]?.stringValue
        }
    }

    private static func number(in value: JSONValue?) -> UInt64? {
        guard let value else { return nil }
        if let number = value.uint64Value { return number }
        if case .object(let fields) = value {
            for (_, field) in fields.sorted(by: { $0.key < $1.key }) {
                if let number = field.uint64Value { return number }
            }
        }
        return nil
    }
}

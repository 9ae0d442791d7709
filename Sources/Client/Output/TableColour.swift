import Foundation

/// Colour in tables for people, as `ls` and `git` do: on only when
/// standard output is a terminal, and never when `NO_COLOR` is set to
/// anything (no-color.org) or `TERM` is `dumb`. Headers are bold; the
/// columns that say how something stands (STATE, ACTION, PLAN, WAS,
/// VERDICT) are green when it is well, yellow when it differs from what
/// was asked, red when it failed. Nothing else changes: the same text,
/// the same columns, so a terminal and a pipe show the same table.
struct TableColour {
    static let stateHeaders: Set<String> = ["STATE", "ACTION", "PLAN", "WAS", "VERDICT"]

    static let reset = "\u{1B}[0m"
    static let boldCode = "\u{1B}[1m"
    static let green = "\u{1B}[32m"
    static let yellow = "\u{1B}[33m"
    static let red = "\u{1B}[31m"

    /// The colour for a stream, or nil when it gets none.
    static func when(_ stream: StandardStream, environment: [String: String] = ProcessInfo.processInfo.environment) -> TableColour? {
        enabled(isTerminal: stream.isTerminal, environment: environment) ? TableColour() : nil
    }

    static func enabled(isTerminal: Bool, environment: [String: String]) -> Bool {
        guard isTerminal else { return false }
        if let noColour = environment["NO_COLOR"], !noColour.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    func bold(_ text: String) -> String { Self.boldCode + text + Self.reset }

    func state(_ text: String) -> String {
        guard let code = Self.code(for: text) else { return text }
        return code + text + Self.reset
    }

    /// Red for a failure, yellow for a difference, green for what is as
    /// asked; nil for anything else (a name, a number).
    static func code(for text: String) -> String? {
        let red = ["failed", "unreachable", "error", "rejected", "unsupported", "rollback failed"]
        let yellow = ["degraded", "different", "missing", "would be", "absent", "stopped"]
        let green = ["running", "in sync", "created", "replaced", "repaired", "unchanged", "unloaded", "restored", "attached", "verified", "ok"]
        // "created, rolled back": what stayed is what counts.
        if text.hasSuffix("rollback failed") { return Self.red }
        if text.hasSuffix("rolled back") { return Self.yellow }
        if red.contains(where: { text.hasPrefix($0) }) { return Self.red }
        if yellow.contains(where: { text.hasPrefix($0) }) { return Self.yellow }
        if green.contains(where: { text.hasPrefix($0) }) { return Self.green }
        return nil
    }
}

import BpfleetShared
import NIOCore

/// One node's map as `map watch` shows it live: the entries as the node
/// last described them (a full snapshot replaces them, a delta updates
/// them), the rate of each integer counter between the last two
/// notifications, and the gaps in the sequence.
struct WatchedMap {
    struct Row: Equatable {
        var key: String
        var value: String
        /// Per second, for an integer value seen in the previous notification too.
        var rate: Double?
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// Key text to value text, as the node wrote them.
    private(set) var entries: [String: String] = [:]
    private(set) var numbers: [String: EntryNumber] = [:]
    private(set) var rates: [String: Double] = [:]
    private(set) var seq: Int?
    /// The node's `takenAt` of the latest notification, as it wrote it.
    private(set) var takenAt: String?
    /// Intervals skipped just before the latest notification.
    private(set) var lastGap = 0
    /// Intervals skipped in all.
    private(set) var skipped = 0
    private(set) var notifications = 0
    private var previous: (takenAt: TakenAt, received: Double)?

    /// Applies one `subscription.map` notification's params, received at
    /// `receivedAt` seconds on a monotonic clock.
    mutating func apply(_ params: ByteBuffer, receivedAt: Double) throws(Malformed) {
        guard let members = NotificationParams.members(params) else { throw Malformed(description: "params are not a JSON object") }
        func member(_ name: String) -> ByteBuffer? { members.first { $0.name == name }?.text }

        let newSeq = member("seq").flatMap(NotificationParams.integer)
        let stamp = member("takenAt").map(NotificationParams.text).map { String($0.dropFirst().dropLast()) }
        if let entries = member("entries") {
            self.entries = try Self.entries(entries)
        } else if member("set") != nil || member("removed") != nil {
            if let set = member("set") {
                for (key, value) in try Self.entryList(set) { self.entries[key] = value }
            }
            if let removed = member("removed") {
                guard let keys = NotificationParams.elements(removed) else { throw Malformed(description: "\"removed\" is not an array") }
                for key in keys { self.entries.removeValue(forKey: NotificationParams.text(key)) }
            }
        } else {
            throw Malformed(description: "neither \"entries\" nor \"set\"/\"removed\"")
        }

        if let newSeq, let seq, newSeq > seq + 1 {
            lastGap = newSeq - seq - 1
            skipped += lastGap
        } else {
            lastGap = 0
        }
        seq = newSeq ?? seq
        takenAt = stamp ?? takenAt
        notifications += 1

        var numbers: [String: EntryNumber] = [:]
        numbers.reserveCapacity(entries.count)
        for (key, value) in entries {
            if let number = EntryNumber(json: value) { numbers[key] = number }
        }
        let now = stamp.flatMap(TakenAt.init)
        rates = [:]
        if let now, let previous {
            let elapsed = TakenAt.elapsed(from: previous.takenAt, to: now, received: receivedAt - previous.received)
            if elapsed > 0 {
                for (key, number) in numbers where number.isInteger {
                    guard let before = self.numbers[key], before.isInteger else { continue }
                    rates[key] = EntryNumber.difference(number, before) / elapsed
                }
            }
        }
        self.numbers = numbers
        previous = now.map { ($0, receivedAt) }
    }

    /// Largest number first; entries with a number before those without;
    /// ties and the rest by key (numerically when both keys are numbers).
    func rows() -> [Row] {
        entries.keys.sorted { a, b in
            switch (numbers[a], numbers[b]) {
            case (let x?, let y?):
                if x.double != y.double { return x.double > y.double }
            case (.some, nil):
                return true
            case (nil, .some):
                return false
            case (nil, nil):
                break
            }
            return Self.keyOrder(a, b)
        }
        .map { Row(key: $0, value: entries[$0]!, rate: rates[$0]) }
    }

    static func keyOrder(_ a: String, _ b: String) -> Bool {
        if let x = EntryNumber(literal: a), let y = EntryNumber(literal: b), x.double != y.double {
            return x.double < y.double
        }
        return a < b
    }

    private static func entries(_ list: ByteBuffer) throws(Malformed) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in try entryList(list) { result[key] = value }
        return result
    }

    private static func entryList(_ list: ByteBuffer) throws(Malformed) -> [(String, String)] {
        guard let elements = NotificationParams.elements(list) else { throw Malformed(description: "entries are not an array") }
        var result: [(String, String)] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            let entry = element.withUnsafeReadableBytes { try? MapEntryText.entry($0) }
            guard let entry else { throw Malformed(description: "an entry is not {\"key\",\"value\"}") }
            result.append((entry.key, entry.value))
        }
        return result
    }
}

import BpfleetShared
import Foundation

/// What `events tail` without `--record-type` says on stderr before the
/// records come, in hex: which struct types of the probe's object
/// `--record-type` could decode them as (`probe.get`'s `recordTypes`).
/// Each different note once, however many nodes say it; none from a node
/// that does not answer `probe.get` with the types (an older bpfleetd), or
/// when the map is no event stream (the subscription says why).
final class RecordTypeHint: @unchecked Sendable {
    private let probe: String
    private let map: String
    private let errors: Int32
    private let lock = NSLock()
    private var said: Set<String> = []

    init(probe: String, map: String, errors: Int32) {
        self.probe = probe
        self.map = map
        self.errors = errors
    }

    func offer(from connection: NodeConnection) async {
        guard let described = try? await connection.call(ProbeGet(probe: probe)),
              let note = Self.note(described, map: map) else { return }
        guard lock.withLock({ said.insert(note).inserted }) else { return }
        let stream = StandardStream(descriptor: errors)
        stream.write(note + "\n")
        stream.flush()
    }

    /// The note for `map` of a probe as `probe.get` described it.
    static func note(_ probe: ProbeDescription, map: String) -> String? {
        guard let types = probe.recordTypes, let kind = probe.maps.first(where: { $0.name == map })?.type else { return nil }
        let stream: String
        switch kind {
        case "ringbuf": stream = "ring buffer"
        case "perf_event_array": stream = "perf event array"
        default: return nil
        }
        let records = "bpfleet: records of \(stream) '\(map)' are shown as hex bytes"
        guard !types.isEmpty else { return records + "; the object defines no struct type for --record-type to decode them as" }
        return records + "; --record-type decodes them as one of the object's struct types: " + types.joined(separator: ", ")
    }
}

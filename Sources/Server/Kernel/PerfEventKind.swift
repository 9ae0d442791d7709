/// The perf events a `perf_event` target names, as `perf list` spells them,
/// and their (type, config) for perf_event_open(2).
struct PerfEventKind: Sendable, Hashable {
    static let hardware: UInt32 = 0  // PERF_TYPE_HARDWARE
    static let software: UInt32 = 1  // PERF_TYPE_SOFTWARE

    var name: String
    var type: UInt32
    var config: UInt64

    var isHardware: Bool { type == Self.hardware }

    /// Values from linux/perf_event.h (enum perf_hw_id, perf_sw_ids).
    static let all: [PerfEventKind] = [
        .init(name: "cpu-clock", type: software, config: 0),
        .init(name: "task-clock", type: software, config: 1),
        .init(name: "page-faults", type: software, config: 2),
        .init(name: "context-switches", type: software, config: 3),
        .init(name: "cpu-migrations", type: software, config: 4),
        .init(name: "minor-faults", type: software, config: 5),
        .init(name: "major-faults", type: software, config: 6),
        .init(name: "alignment-faults", type: software, config: 7),
        .init(name: "emulation-faults", type: software, config: 8),
        .init(name: "cycles", type: hardware, config: 0),
        .init(name: "instructions", type: hardware, config: 1),
        .init(name: "cache-references", type: hardware, config: 2),
        .init(name: "cache-misses", type: hardware, config: 3),
        .init(name: "branch-instructions", type: hardware, config: 4),
        .init(name: "branch-misses", type: hardware, config: 5),
        .init(name: "bus-cycles", type: hardware, config: 6),
        .init(name: "ref-cycles", type: hardware, config: 9),
    ]

    /// perf's aliases for the same events.
    static let aliases = ["cpu-cycles": "cycles", "branches": "branch-instructions", "faults": "page-faults", "cs": "context-switches", "migrations": "cpu-migrations"]

    static func named(_ name: String) -> PerfEventKind? {
        let canonical = aliases[name] ?? name
        return all.first { $0.name == canonical }
    }
}

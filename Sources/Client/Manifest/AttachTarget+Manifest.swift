import BpfleetShared
import Foundation

extension AttachTarget {
    /// The target as its wire JSON, for the spec hash. Decoding fills in
    /// defaults (`retprobe: false`) and drops absent optionals, so two
    /// manifests that write the same target differently hash the same.
    var canonicalJSON: JSONValue {
        guard let data = try? JSONEncoder().encode(self),
              let value = try? JSONDecoder().decode(JSONValue.self, from: data) else { return .null }
        return value
    }

    /// The keys a target of `type` may have (`type` included), nil for a
    /// type there is none of. Read off a target of each type with every
    /// optional field set, so the list is the encoder's own; a test checks
    /// that every type is here.
    static func fieldNames(ofType type: String) -> [String]? {
        guard let sample = fullSamples.first(where: { $0.type == type }),
              case .object(let fields) = sample.canonicalJSON else { return nil }
        return fields.keys.sorted()
    }

    /// One target of every type, with every optional field set.
    static let fullSamples: [AttachTarget] = [
        .tracepoint(category: "c", name: "n"),
        .rawTracepoint(name: "n"),
        .tpBtf(name: "n"),
        .uprobe(binary: "b", symbol: "s", offset: 0, pid: 0, retprobe: false),
        .usdt(binary: "b", provider: "p", name: "n", pid: 0),
        .kprobe(function: "f", retprobe: false),
        .fentry(function: "f"),
        .fexit(function: "f"),
        .xdp(interface: "i", mode: "m"),
        .tc(interface: "i", direction: "d", priority: 0),
        .cgroup(path: "p", attachType: "a"),
        .perfEvent(event: "e", frequency: 0),
        .auto,
    ]
}

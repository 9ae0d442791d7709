import BpfleetShared
import Foundation

/// Field by field, what `apply` would change on a node: `bpfleet diff`.
/// Each change names the field as the manifest does (`labels.team`,
/// `globals.min_pid`, `maps.events.maxEntries` as `maps.events`,
/// `metrics.execs_total`, `attach`), what the node has and what the
/// manifest wants, as compact JSON (`null` where there is none).
public struct ProbeFieldDiff: Sendable, Hashable, Encodable {
    public var field: String
    /// On the node now; nil where it has none.
    public var node: String?
    /// In the manifest; nil where it has none.
    public var manifest: String?

    public init(field: String, node: String?, manifest: String?) {
        self.field = field
        self.node = node
        self.manifest = manifest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(field, forKey: .field)
        try container.encode(node, forKey: .node)
        try container.encode(manifest, forKey: .manifest)
    }

    enum CodingKeys: String, CodingKey { case field, node, manifest }

    /// Every difference between a node's probe (nil: it has none) and the
    /// wanted one; empty when `apply` would leave the node alone.
    public static func changes(_ probe: ProbeDescription?, wanted: DesiredProbe) -> [ProbeFieldDiff] {
        guard let probe else { return [ProbeFieldDiff(field: "probe", node: nil, manifest: wanted.name)] }
        var changes: [ProbeFieldDiff] = []
        if probe.objectId != wanted.objectId {
            changes.append(ProbeFieldDiff(field: "object", node: probe.objectId, manifest: wanted.objectId))
        }
        if let programs = wanted.programs, Set(programs) != Set(probe.programs.map(\.name)) {
            changes.append(ProbeFieldDiff(field: "programs", node: text(probe.programs.map(\.name).sorted()), manifest: text(programs.sorted())))
        }
        changes += keyed("globals", probe.globals.mapValues(CompactJSON.text), wanted.globals.mapValues(CompactJSON.text))
        changes += keyed("labels", probe.labels.mapValues { text($0) }, wanted.labels.mapValues { text($0) })
        changes += keyed("maps", (probe.mapSettings ?? [:]).mapValues { text($0) }, wanted.maps.mapValues { text($0) })
        let have = Dictionary((probe.metrics ?? []).map { ($0.name, text($0)) }, uniquingKeysWith: { first, _ in first })
        let want = Dictionary(wanted.metrics.map { ($0.name, text($0)) }, uniquingKeysWith: { first, _ in first })
        changes += keyed("metrics", have, want)
        if let state = probe.state, state != "running" {
            changes.append(ProbeFieldDiff(field: "state", node: text(state), manifest: text("running")))
        }
        let (missing, extra) = ProbeDrift.linkDifference(have: probe.links, want: wanted.attach)
        if !missing.isEmpty || !extra.isEmpty {
            let links = probe.links.sorted { $0.linkId < $1.linkId }.map { "\($0.program) \($0.target)" }
            changes.append(ProbeFieldDiff(field: "attach", node: text(links), manifest: text(wanted.attach.map { "\($0.program) \($0.target)" })))
        }
        return changes
    }

    /// A change per key that differs, keys in order.
    private static func keyed(_ field: String, _ have: [String: String], _ want: [String: String]) -> [ProbeFieldDiff] {
        Set(have.keys).union(want.keys).sorted().compactMap { key in
            have[key] == want[key] ? nil : ProbeFieldDiff(field: "\(field).\(key)", node: have[key], manifest: want[key])
        }
    }

    private static func text(_ value: some Encodable) -> String {
        let encoder = JSONEncoder.wire()
        encoder.outputFormatting.insert(.sortedKeys)
        encoder.outputFormatting.insert(.withoutEscapingSlashes)
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}

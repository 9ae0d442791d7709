import BpfleetShared

/// What one node should hold: a probe of this name, loaded from this
/// object with these programs, globals and labels, with these links. A
/// manifest's spec (`ProbeManifest`), or a node's earlier probe when a
/// rollout rolls back.
public struct DesiredProbe: Sendable, Hashable {
    public var name: String
    public var objectId: String
    /// The `object.upload` for nodes that do not have the object yet; nil
    /// when the nodes must have it already (a rollback to the object the
    /// node ran before).
    public var upload: ObjectUpload?
    public var programs: [String]?
    public var globals: [String: JSONValue]
    /// `probe.load`'s map settings.
    public var maps: [String: MapSettings]
    /// `probe.load`'s map exports.
    public var metrics: [MetricExport]
    /// Every label the probe carries, the spec label included.
    public var labels: [String: String]
    public var attach: [ProbeLoad.Attachment]
    /// Maps whose contents a replace keeps (`probe.load`'s `keepMaps`).
    public var keepMaps: [String]

    public init(name: String, objectId: String, upload: ObjectUpload?, programs: [String]?, globals: [String: JSONValue],
                labels: [String: String], attach: [ProbeLoad.Attachment], keepMaps: [String] = [],
                maps: [String: MapSettings] = [:], metrics: [MetricExport] = []) {
        self.maps = maps
        self.metrics = metrics
        self.name = name
        self.objectId = objectId
        self.upload = upload
        self.programs = programs
        self.globals = globals
        self.labels = labels
        self.attach = attach
        self.keepMaps = keepMaps
    }

    /// The spec hash it carries (`bpfleet.io/spec`), if any.
    public var spec: String? { labels[ProbeManifest.specLabel] }

    /// A manifest's probe, labelled with its spec hash.
    public init(manifest: ProbeManifest) {
        self.init(name: manifest.probe, objectId: manifest.objectId, upload: manifest.objectUpload,
                  programs: manifest.programs, globals: manifest.globals ?? [:], labels: manifest.nodeLabels,
                  attach: manifest.attach.map { ProbeLoad.Attachment(program: $0.program, target: $0.target) },
                  keepMaps: manifest.keepMaps ?? [], maps: manifest.maps ?? [:], metrics: manifest.metrics ?? [])
    }

    /// What a node held before a rollout changed it, to roll back to.
    public init(restoring probe: ProbeDescription, keepMaps: [String]) {
        self.init(name: probe.name, objectId: probe.objectId, upload: nil, programs: probe.programs.map(\.name),
                  globals: probe.globals, labels: probe.labels,
                  attach: probe.links.sorted { $0.linkId < $1.linkId }.map { ProbeLoad.Attachment(program: $0.program, target: $0.target) },
                  keepMaps: keepMaps, maps: probe.mapSettings ?? [:], metrics: probe.metrics ?? [])
    }

    var loadRequest: ProbeLoad {
        ProbeLoad(name: name, objectId: objectId, programs: programs, globals: globals.isEmpty ? nil : globals,
                  labels: labels.isEmpty ? nil : labels, attach: attach.isEmpty ? nil : attach, maps: maps.isEmpty ? nil : maps,
                  metrics: metrics.isEmpty ? nil : metrics)
    }
}

/// How a node's probe compares with what it should hold.
public enum ProbeDrift: Sendable, Hashable {
    /// The probe is there, carries the spec, runs, and has exactly the links.
    case inSync
    /// No probe of that name.
    case missing
    /// Another spec (or none): the probe must be replaced.
    case otherSpec(String?)
    /// The spec matches, but links differ (detached or attached by hand) or
    /// some are not in the kernel: `missing` the wanted links it lacks,
    /// `extra` the link ids it has beyond them.
    case links(missing: [ProbeLoad.Attachment], extra: [Int])
    /// The probe is `degraded` or `failed` (docs/state-and-pins.md).
    case unhealthy(String)

    public static func of(_ probe: ProbeDescription?, against wanted: DesiredProbe) -> ProbeDrift {
        guard let probe else { return .missing }
        let spec = probe.labels[ProbeManifest.specLabel]
        // The label says which spec; the rest catches a probe changed by
        // hand under the same label, and a rollback to a probe that had none.
        guard spec == wanted.spec, probe.objectId == wanted.objectId, probe.globals == wanted.globals,
              probe.labels == wanted.labels, (probe.mapSettings ?? [:]) == wanted.maps, (probe.metrics ?? []) == wanted.metrics,
              wanted.programs.map({ Set($0) == Set(probe.programs.map(\.name)) }) ?? true
        else { return .otherSpec(spec) }
        if let state = probe.state, state != "running" { return .unhealthy(state) }
        let (missing, extra) = linkDifference(have: probe.links, want: wanted.attach)
        if missing.isEmpty, extra.isEmpty { return .inSync }
        return .links(missing: missing, extra: extra)
    }

    /// Pairs each wanted link with an attached one of the same program and
    /// target (first come, first paired); what is left over on either side.
    static func linkDifference(have: [LinkDescription], want: [ProbeLoad.Attachment]) -> (missing: [ProbeLoad.Attachment], extra: [Int]) {
        var unpaired = have.filter { $0.state == nil || $0.state == "attached" }.sorted { $0.linkId < $1.linkId }
        var missing: [ProbeLoad.Attachment] = []
        for wanted in want {
            if let index = unpaired.firstIndex(where: { $0.program == wanted.program && $0.target == wanted.target }) {
                unpaired.remove(at: index)
            } else {
                missing.append(wanted)
            }
        }
        let brokenLinks = have.filter { $0.state != nil && $0.state != "attached" }.map(\.linkId)
        return (missing, (unpaired.map(\.linkId) + brokenLinks).sorted())
    }

    /// A word for tables and events: `in sync`, `missing`, `different`.
    public var word: String {
        switch self {
        case .inSync: "in sync"
        case .missing: "missing"
        case .otherSpec, .links, .unhealthy: "different"
        }
    }

    /// What differs, for people; empty when in sync.
    public var detail: String {
        switch self {
        case .inSync: ""
        case .missing: "no probe of that name"
        case .otherSpec(let spec): spec.map { "spec \(ProbeDrift.short($0))" } ?? "not applied from a manifest (no \(ProbeManifest.specLabel) label)"
        case .links(let missing, let extra):
            ([missing.isEmpty ? nil : "\(missing.count) link\(missing.count == 1 ? "" : "s") missing"]
                + [extra.isEmpty ? nil : "extra link\(extra.count == 1 ? "" : "s") \(extra.map(String.init).joined(separator: ", "))"])
                .compactMap { $0 }.joined(separator: "; ")
        case .unhealthy(let state): "probe \(state)"
        }
    }

    /// `sha256:0123456789ab`: enough of a hash for people.
    public static func short(_ spec: String) -> String {
        spec.hasPrefix("sha256:") ? String(spec.prefix(7 + 12)) : spec
    }
}

import BpfleetShared
import Crypto
import Foundation

/// One probe, as it should be on many nodes: what `bpfleet apply` reads
/// from a manifest file (docs/manifests.md).
///
/// What lands on a node (the object, the probe's name, programs, globals,
/// labels, attachments) is summed up by `specHash`, which each node keeps
/// as the probe label `bpfleet.io/spec`; where to apply it (`nodes`) and
/// how (`rollout`, `keepMaps`) are not part of it.
public struct ProbeManifest: Sendable, Hashable {
    /// The probe label that holds `specHash` on every node the manifest was
    /// applied to.
    public static let specLabel = "bpfleet.io/spec"
    /// Label keys a manifest may not set: bpfleet's own.
    public static let reservedLabelPrefix = "bpfleet.io/"

    /// The manifest file, as named when it was read (for messages).
    public var file: String
    /// The probe's name on every node.
    public var probe: String
    /// The BPF ELF object's path: as written when absolute, else joined to
    /// the manifest's directory.
    public var objectPath: String
    /// The object's bytes, read once when the manifest was.
    public private(set) var objectBytes: Data
    /// The server's id of the object: "sha256:" and the lowercase hex
    /// SHA-256 of `objectBytes`.
    public private(set) var objectId: String
    /// Signatures of the object (`signatures`, or OBJECT.sig), sent with
    /// it; not part of the spec: a new signature changes nothing that runs.
    public var signatures: [ObjectSignature] = []
    /// Programs to load; nil loads all of the object's.
    public var programs: [String]?
    /// Values for the object's global variables, typed as their BTF says.
    public var globals: [String: JSONValue]?
    /// Settings of the object's maps (`probe.load`'s `maps`): the sizes a
    /// loader sets.
    public var maps: [String: MapSettings]?
    /// Maps exported to Prometheus (`probe.load`'s `metrics`).
    public var metrics: [MetricExport]?
    /// The user's probe labels (never a `bpfleet.io/` key).
    public var labels: [String: String]?
    /// Maps whose contents survive when a node's probe is replaced.
    public var keepMaps: [String]?
    /// Links made with the probe, in order: link ids 1, 2, ...
    public var attach: [ManifestAttachment]
    /// Which nodes the manifest names; the command line's `-n` and
    /// `--selector` win over it.
    public var nodes: ManifestNodes?
    public var rollout: RolloutPolicy

    public init(file: String, probe: String, objectPath: String, objectBytes: Data, programs: [String]? = nil,
                globals: [String: JSONValue]? = nil, maps: [String: MapSettings]? = nil, metrics: [MetricExport]? = nil,
                labels: [String: String]? = nil, keepMaps: [String]? = nil,
                attach: [ManifestAttachment] = [], nodes: ManifestNodes? = nil, rollout: RolloutPolicy = RolloutPolicy()) {
        self.file = file
        self.probe = probe
        self.objectPath = objectPath
        self.objectBytes = objectBytes
        self.objectId = Self.objectId(of: objectBytes)
        self.programs = programs
        self.globals = globals
        self.maps = maps
        self.metrics = metrics
        self.labels = labels
        self.keepMaps = keepMaps
        self.attach = attach
        self.nodes = nodes
        self.rollout = rollout
    }

    /// The id a node gives these bytes when they are uploaded.
    public static func objectId(of bytes: Data) -> String {
        ObjectSignature.digest(of: bytes)
    }
}

/// One link of a manifest: a program of the probe and where it attaches.
public struct ManifestAttachment: Sendable, Hashable {
    public var program: String
    public var target: AttachTarget
    /// The entry's line in the manifest, for messages about it later (a
    /// node that refuses the attachment).
    public var line: Int

    public init(program: String, target: AttachTarget, line: Int = 0) {
        self.program = program
        self.target = target
        self.line = line
    }
}

/// The nodes a manifest names: a label selector, names, or both.
public struct ManifestNodes: Sendable, Hashable {
    /// A label selector (`role=web,zone!=b`), not yet parsed.
    public var selector: String?
    /// Node names (or addresses) as `-n` takes them.
    public var names: [String]?
    /// The `nodes:` line in the manifest.
    public var line: Int

    public init(selector: String? = nil, names: [String]? = nil, line: Int = 0) {
        self.selector = selector
        self.names = names
        self.line = line
    }
}

extension ProbeManifest {
    /// The spec: exactly what lands on a node, as canonical JSON (keys
    /// sorted by their UTF-8 bytes, no whitespace, integers exact):
    /// `{"attach":[{"program":…,"target":{…}}],"globals":{…},"labels":{…},
    /// "objectId":"sha256:…","probe":…,"programs":[…] or null}`.
    /// Absent `globals` and `labels` are `{}` and absent `attach` is `[]`
    /// (a node does not tell them apart); absent `programs` is `null` (all
    /// of them). `"maps":{NAME:{"maxEntries":N,…}}` is there only when a map
    /// is set, so a manifest without `maps` hashes as it did before there
    /// were map settings. `"metrics":[…]` (each export with the fields
    /// that are set) likewise only when there are exports.
    public var canonicalSpec: String {
        var fields: [String: JSONValue] = [
            "attach": .array(attach.map { .object(["program": .string($0.program), "target": $0.target.canonicalJSON]) }),
            "globals": .object(globals ?? [:]),
            "labels": .object((labels ?? [:]).mapValues(JSONValue.string)),
            "objectId": .string(objectId),
            "probe": .string(probe),
        ]
        fields["programs"] = programs.map { .array($0.map(JSONValue.string)) } ?? .null
        if let maps, !maps.isEmpty { fields["maps"] = Self.canonicalJSON(of: maps) }
        if let metrics, !metrics.isEmpty { fields["metrics"] = Self.canonicalJSON(of: metrics) }
        return CanonicalJSON.text(.object(fields))
    }

    /// Map exports as JSON, in order, each field that is set.
    static func canonicalJSON(of metrics: [MetricExport]) -> JSONValue {
        .array(metrics.map { export in
            var fields: [String: JSONValue] = ["map": .string(export.map), "name": .string(export.name), "kind": .string(export.kind)]
            if let help = export.help { fields["help"] = .string(help) }
            if let value = export.value { fields["value"] = .string(value) }
            if let sum = export.sum { fields["sum"] = .string(sum) }
            if let labels = export.labels {
                fields["labels"] = .array(labels.map { label in
                    var item: [String: JSONValue] = ["name": .string(label.name)]
                    if let field = label.field { item["field"] = .string(field) }
                    if let decoder = label.decoder { item["decoder"] = .string(decoder) }
                    if let values = label.values { item["values"] = .object(values.mapValues(JSONValue.string)) }
                    return .object(item)
                })
            }
            if let buckets = export.buckets {
                var item: [String: JSONValue] = ["type": .string(buckets.type)]
                if let width = buckets.width { item["width"] = .uint(width) }
                if let min = buckets.min { item["min"] = .uint(min) }
                if let multiplier = buckets.multiplier { item["multiplier"] = .double(multiplier) }
                fields["buckets"] = .object(item)
            }
            return .object(fields)
        })
    }

    /// Map settings as JSON, each field that is set.
    static func canonicalJSON(of maps: [String: MapSettings]) -> JSONValue {
        .object(maps.mapValues { setting in
            var fields: [String: JSONValue] = [:]
            if let value = setting.maxEntries { fields["maxEntries"] = .int(Int64(value)) }
            if let value = setting.valueSize { fields["valueSize"] = .int(Int64(value)) }
            if let value = setting.numaNode { fields["numaNode"] = .int(Int64(value)) }
            if let value = setting.pinning { fields["pinning"] = .string(value) }
            return .object(fields)
        })
    }

    /// "sha256:" + the lowercase hex SHA-256 of `canonicalSpec`: equal for
    /// two manifests exactly when a node would get the same probe from
    /// them. Key order, comments, YAML style (`0x10` or `16`, flow or
    /// block), a target's defaults written out or left out, `nodes`,
    /// `rollout` and `keepMaps` do not change it; the object's bytes, the
    /// probe's name, `programs` (and their order), a global, a map setting,
    /// a label or an attachment (and their order) do.
    public var specHash: String {
        // The same form as object ids: "sha256:" + lowercase hex.
        ObjectSignature.digest(of: Array(canonicalSpec.utf8))
    }

    /// The labels a node's probe gets: the user's and `bpfleet.io/spec`.
    public var nodeLabels: [String: String] {
        (labels ?? [:]).merging([Self.specLabel: specHash]) { _, spec in spec }
    }

    /// The `object.upload` of this manifest's object, under its file name.
    public var objectUpload: ObjectUpload {
        ObjectUpload(data: objectBytes.base64EncodedString(), name: URL(fileURLWithPath: objectPath).lastPathComponent,
                     signatures: signatures.isEmpty ? nil : signatures)
    }
}

import BpfleetShared
import Yams

extension ProbeManifest {
    static let metricKeys = ["map", "name", "help", "kind", "value", "labels", "buckets", "sum"]
    static let metricLabelKeys = ["name", "field", "decoder", "values"]
    static let metricBucketKeys = ["type", "width", "min", "multiplier"]

    /// A file of map exports alone (`probe load --metrics FILE`): a YAML
    /// (or JSON) list, what a manifest's `metrics:` holds.
    public static func metricExports(yaml: String, file: String) throws(ManifestError) -> [MetricExport] {
        let reader = ManifestReader(file: file)
        guard let root = try reader.document(yaml) else {
            throw ManifestError(file: file, line: 1, column: 1, field: nil, "the file is empty: it needs a list of exports (- map: ..., name: ..., kind: ...)")
        }
        return try reader.metricExports(root)
    }
}

extension ManifestReader {
    /// `metrics:`: a list of map exports (docs/metrics.md, "Map exports"),
    /// their shape checked as the node checks it, each mistake at its line.
    func metricExports(_ node: Node) throws(ManifestError) -> [MetricExport] {
        var exports: [MetricExport] = []
        var nodes: [String: Node] = [:]
        for (index, item) in try sequence(node, at: "metrics", what: "a list of map exports (- map: ..., name: ..., kind: ...)").enumerated() {
            let path = "metrics[\(index)]"
            nodes[path] = item
            let fields = try mapping(item, at: path, keys: ProbeManifest.metricKeys, what: "a map export {map, name, kind, ...}")
            for (key, value) in fields.entries { nodes[join(path, key)] = value.value }
            func required(_ key: String, _ what: String) throws(ManifestError) -> String {
                guard let value = fields[key] else { throw error(item, join(path, key), "missing: \(what)") }
                return try name(value, at: join(path, key), what: what)
            }
            func optional(_ key: String, _ what: String) throws(ManifestError) -> String? {
                try fields[key].map { value throws(ManifestError) in try text(value, at: join(path, key), what: what) }
            }
            var export = MetricExport(
                map: try required("map", "the map's name in the object"), name: try required("name", "the metric's name"),
                help: try optional("help", "a help text"), kind: try required("kind", "counter, gauge or histogram"),
                value: try optional("value", "a member of the value (a.b)"), sum: try optional("sum", "a member of the value (a.b)"))
            if let labelsNode = fields["labels"] {
                var labels: [MetricLabel] = []
                for (labelIndex, labelNode) in try sequence(labelsNode, at: join(path, "labels"), what: "a list of labels (- name: ..., field: ...)").enumerated() {
                    let labelPath = "\(path).labels[\(labelIndex)]"
                    nodes[labelPath] = labelNode
                    let labelFields = try mapping(labelNode, at: labelPath, keys: ProbeManifest.metricLabelKeys, what: "a label {name, field, decoder}")
                    for (key, value) in labelFields.entries { nodes[join(labelPath, key)] = value.value }
                    guard let nameNode = labelFields["name"] else { throw error(labelNode, join(labelPath, "name"), "missing: the label's name") }
                    var values: [String: String]?
                    if let valuesNode = labelFields["values"] {
                        var table: [String: String] = [:]
                        for entry in try entries(valuesNode, at: join(labelPath, "values"), what: "a mapping of numbers to label values") {
                            nodes[join(join(labelPath, "values"), entry.key)] = entry.keyNode
                            table[entry.key] = try text(entry.value, at: join(join(labelPath, "values"), entry.key), what: "a label value")
                        }
                        values = table
                    }
                    labels.append(MetricLabel(
                        name: try name(nameNode, at: join(labelPath, "name"), what: "a label name"),
                        field: try labelFields["field"].map { value throws(ManifestError) in try name(value, at: join(labelPath, "field"), what: "a member of the key (a.b)") },
                        decoder: try labelFields["decoder"].map { value throws(ManifestError) in try name(value, at: join(labelPath, "decoder"), what: "a decoder") },
                        values: values))
                }
                export.labels = labels
            }
            if let bucketsNode = fields["buckets"] {
                let bucketsPath = join(path, "buckets")
                let bucketFields = try mapping(bucketsNode, at: bucketsPath, keys: ProbeManifest.metricBucketKeys, what: "buckets {type: log2} or {type: linear, width: N}")
                for (key, value) in bucketFields.entries { nodes[join(bucketsPath, key)] = value.value }
                guard let typeNode = bucketFields["type"] else { throw error(bucketsNode, join(bucketsPath, "type"), "missing: log2 or linear") }
                func whole(_ key: String) throws(ManifestError) -> UInt64? {
                    try bucketFields[key].map { value throws(ManifestError) in
                        let number = try integer(value, at: join(bucketsPath, key))
                        guard let whole = UInt64(exactly: number) else { throw error(value, join(bucketsPath, key), "\(number) is below 0") }
                        return whole
                    }
                }
                var multiplier: Double?
                if let multiplierNode = bucketFields["multiplier"] {
                    switch try json(multiplierNode, at: join(bucketsPath, "multiplier")) {
                    case .double(let number): multiplier = number
                    case .int(let number): multiplier = Double(number)
                    case .uint(let number): multiplier = Double(number)
                    default: throw error(multiplierNode, join(bucketsPath, "multiplier"), "expected a number (0.000001), got \(kind(multiplierNode))")
                    }
                }
                export.buckets = MetricBuckets(type: try name(typeNode, at: join(bucketsPath, "type"), what: "log2 or linear"),
                                               width: try whole("width"), min: try whole("min"), multiplier: multiplier)
            }
            exports.append(export)
        }
        do {
            try MetricExport.checkShape(exports)
        } catch {
            // The problem's field is a path from `metrics`; the closest node
            // written in the file carries the line.
            var path = Substring(error.field)
            var at = nodes[String(path)]
            while at == nil, let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) {
                path = path[..<cut]
                at = nodes[String(path)]
            }
            throw self.error(at ?? node, error.field, error.message)
        }
        return exports
    }
}

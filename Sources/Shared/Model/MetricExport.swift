/// One map of a probe exported to Prometheus (`probe.load`'s `metrics`,
/// docs/metrics.md "Map exports"): each entry of the map becomes a sample
/// of the metric `name`, labelled with fields of its key.
///
/// The shape is checked here (names, kinds, which fields go together); the
/// fields against the map's BTF when the node loads the probe.
public struct MetricExport: Codable, Sendable, Hashable {
    /// The map, by its name in the object.
    public var map: String
    /// The metric's name (`[a-zA-Z_:][a-zA-Z0-9_:]*`, not `bpfleet_...`);
    /// a counter's ends in `_total`.
    public var name: String
    public var help: String?
    /// `counter`, `gauge` or `histogram`.
    public var kind: String
    /// The value's member holding the number (counter, gauge) or the slot
    /// array (histogram), as a dotted path; absent when the value itself is.
    public var value: String?
    /// Labels from the key, in order.
    public var labels: [MetricLabel]?
    /// Histogram: what each slot of the array counts.
    public var buckets: MetricBuckets?
    /// Histogram: the value's member holding the sum of what was observed
    /// (`_sum`); without it the histogram has no `_sum`.
    public var sum: String?

    public init(map: String, name: String, help: String? = nil, kind: String, value: String? = nil, labels: [MetricLabel]? = nil,
                buckets: MetricBuckets? = nil, sum: String? = nil) {
        self.map = map
        self.name = name
        self.help = help
        self.kind = kind
        self.value = value
        self.labels = labels
        self.buckets = buckets
        self.sum = sum
    }

    public static let kinds = ["counter", "gauge", "histogram"]
    /// Exports one probe may declare.
    public static let maxPerProbe = 64
    /// Labels one export may take (the `probe` label besides).
    public static let maxLabels = 16
    /// Slots of a histogram's array.
    public static let maxSlots = 1024
    /// Entries of a `static` decoder's table.
    public static let maxStaticValues = 4096
    /// Bytes of a name, a help text, a field path, a static label value.
    public static let maxNameBytes = 200
    public static let maxHelpBytes = 1024
}

/// A label of a map export: a field of the key, and how it turns into text.
public struct MetricLabel: Codable, Sendable, Hashable {
    /// The label's name (`[a-zA-Z_][a-zA-Z0-9_]*`; not `probe`, `le` or
    /// `__...`).
    public var name: String
    /// The key's member, as a dotted path; absent when the key itself is.
    public var field: String?
    /// `ksym`, `ipv4`, `ipv6`, `syscall`, `cgroup`, `errno` or `static`;
    /// absent: the field as it is (integers in decimal, enums by name,
    /// `char[]` as text).
    public var decoder: String?
    /// `static`: label values by the field's integer value (as decimal
    /// text); a value not listed reads as its number.
    public var values: [String: String]?

    public init(name: String, field: String? = nil, decoder: String? = nil, values: [String: String]? = nil) {
        self.name = name
        self.field = field
        self.decoder = decoder
        self.values = values
    }

    public static let decoders = ["ksym", "ipv4", "ipv6", "syscall", "cgroup", "errno", "static"]
    /// Label names bpfleet sets itself.
    public static let reserved = ["probe", "le"]
}

/// How the slots of a histogram's array map to bounds.
public struct MetricBuckets: Codable, Sendable, Hashable {
    /// `log2`: slot `i` counts values from 2^i to 2^(i+1)-1 (slot 0 also
    /// 0), as latency tools fill it. `linear`: slot `i` counts values from
    /// `min + i*width` to `min + (i+1)*width - 1`.
    public var type: String
    /// `linear`: the width of a slot (at least 1).
    public var width: UInt64?
    /// `linear`: the lower bound of slot 0 (default 0).
    public var min: UInt64?
    /// Bounds (and `_sum`) are multiplied by this: `0.000001` turns
    /// microseconds into seconds. Default 1.
    public var multiplier: Double?

    public init(type: String, width: UInt64? = nil, min: UInt64? = nil, multiplier: Double? = nil) {
        self.type = type
        self.width = width
        self.min = min
        self.multiplier = multiplier
    }

    public static let types = ["log2", "linear"]
}

/// A mistake in a declaration: `field` is its path from `metrics`
/// (`metrics[0].labels[1].decoder`).
public struct MetricExportProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}

extension MetricExport {
    /// Checks the shape of a probe's exports (what needs no BTF): names,
    /// kinds, decoders, which fields go together, the bounds. The first
    /// mistake is thrown.
    public static func checkShape(_ exports: [MetricExport]) throws(MetricExportProblem) {
        guard exports.count <= maxPerProbe else {
            throw MetricExportProblem("metrics", "\(exports.count) exports; a probe declares at most \(maxPerProbe)")
        }
        var names: Set<String> = []
        for (index, export) in exports.enumerated() {
            let path = "metrics[\(index)]"
            try export.checkShape(at: path)
            guard names.insert(export.name).inserted else {
                throw MetricExportProblem("\(path).name", "'\(export.name)' is exported twice by this probe")
            }
        }
    }

    func checkShape(at path: String) throws(MetricExportProblem) {
        guard !map.isEmpty, map.utf8.count <= Self.maxNameBytes else {
            throw MetricExportProblem("\(path).map", "name the map to export (1 to \(Self.maxNameBytes) bytes)")
        }
        guard Self.isMetricName(name) else {
            throw MetricExportProblem("\(path).name", "'\(name)' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, at most \(Self.maxNameBytes) bytes)")
        }
        guard !name.hasPrefix("bpfleet_") else {
            throw MetricExportProblem("\(path).name", "names starting 'bpfleet_' are bpfleetd's own metrics")
        }
        if let help, help.utf8.count > Self.maxHelpBytes {
            throw MetricExportProblem("\(path).help", "\(help.utf8.count) bytes; at most \(Self.maxHelpBytes)")
        }
        guard Self.kinds.contains(kind) else {
            throw MetricExportProblem("\(path).kind", "'\(kind)' is not a kind (counter, gauge, histogram)")
        }
        if kind == "counter", !name.hasSuffix("_total") {
            throw MetricExportProblem("\(path).name", "a counter's name ends in _total ('\(name)_total')")
        }
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                throw MetricExportProblem("\(path).name", "a histogram's name does not end in \(suffix) (its samples do)")
            }
        }
        if let value { try Self.checkPath(value, at: "\(path).value") }
        if let sum {
            guard kind == "histogram" else { throw MetricExportProblem("\(path).sum", "only a histogram has a sum") }
            try Self.checkPath(sum, at: "\(path).sum")
        }
        switch (kind == "histogram", buckets) {
        case (true, nil):
            throw MetricExportProblem("\(path).buckets", "a histogram needs buckets ({type: log2} or {type: linear, width: N})")
        case (false, .some):
            throw MetricExportProblem("\(path).buckets", "only a histogram has buckets")
        case (true, .some(let buckets)):
            try buckets.checkShape(at: "\(path).buckets")
        case (false, nil):
            break
        }
        let labels = labels ?? []
        guard labels.count <= Self.maxLabels else {
            throw MetricExportProblem("\(path).labels", "\(labels.count) labels; at most \(Self.maxLabels)")
        }
        var labelNames: Set<String> = []
        for (index, label) in labels.enumerated() {
            let labelPath = "\(path).labels[\(index)]"
            try label.checkShape(at: labelPath)
            guard labelNames.insert(label.name).inserted else {
                throw MetricExportProblem("\(labelPath).name", "label '\(label.name)' is given twice")
            }
        }
    }

    /// A dotted path of C member names.
    static func checkPath(_ path: String, at field: String) throws(MetricExportProblem) {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false)
        guard path.utf8.count <= maxNameBytes, parts.allSatisfy({ isIdentifier($0, colon: false) }) else {
            throw MetricExportProblem(field, "'\(path)' is not a member path (names of C members joined by '.', e.g. 'key.pid')")
        }
    }

    /// Prometheus' metric name rule (`colon` true) or label name rule.
    static func isIdentifier(_ text: some StringProtocol, colon: Bool) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= maxNameBytes else { return false }
        func letter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || (colon && c == 0x3A) }
        return letter(first) && text.utf8.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    public static func isMetricName(_ name: String) -> Bool { isIdentifier(name, colon: true) }
}

extension MetricLabel {
    func checkShape(at path: String) throws(MetricExportProblem) {
        guard MetricExport.isIdentifier(name, colon: false), !name.hasPrefix("__") else {
            throw MetricExportProblem("\(path).name", "'\(name)' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting '__')")
        }
        guard !Self.reserved.contains(name) else {
            throw MetricExportProblem("\(path).name", "'\(name)' is set by bpfleet (reserved: \(Self.reserved.joined(separator: ", ")))")
        }
        if let field { try MetricExport.checkPath(field, at: "\(path).field") }
        if let decoder, !Self.decoders.contains(decoder) {
            throw MetricExportProblem("\(path).decoder", "'\(decoder)' is not a decoder (\(Self.decoders.joined(separator: ", ")))")
        }
        switch (decoder == "static", values) {
        case (true, nil):
            throw MetricExportProblem("\(path).values", "the static decoder needs values ({\"1\": \"read\", ...})")
        case (false, .some):
            throw MetricExportProblem("\(path).values", "values go with decoder: static")
        case (true, .some(let values)):
            guard !values.isEmpty, values.count <= MetricExport.maxStaticValues else {
                throw MetricExportProblem("\(path).values", "\(values.count) values; 1 to \(MetricExport.maxStaticValues)")
            }
            for (key, text) in values.sorted(by: { $0.key < $1.key }) {
                guard Int64(key) != nil || UInt64(key) != nil else {
                    throw MetricExportProblem("\(path).values.\(key)", "'\(key)' is not an integer (the field's value, in decimal)")
                }
                guard text.utf8.count <= MetricExport.maxNameBytes else {
                    throw MetricExportProblem("\(path).values.\(key)", "\(text.utf8.count) bytes; at most \(MetricExport.maxNameBytes)")
                }
            }
        case (false, nil):
            break
        }
    }
}

extension MetricBuckets {
    func checkShape(at path: String) throws(MetricExportProblem) {
        guard Self.types.contains(type) else {
            throw MetricExportProblem("\(path).type", "'\(type)' is not a bucket type (log2, linear)")
        }
        if type == "linear" {
            guard let width, width >= 1 else { throw MetricExportProblem("\(path).width", "a linear histogram needs a width of at least 1") }
        } else {
            if width != nil { throw MetricExportProblem("\(path).width", "only linear buckets have a width") }
            if min != nil { throw MetricExportProblem("\(path).min", "only linear buckets have a min") }
        }
        if let multiplier, !(multiplier.isFinite && multiplier > 0) {
            throw MetricExportProblem("\(path).multiplier", "\(multiplier) is not a positive finite number")
        }
    }
}

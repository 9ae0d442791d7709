import BpfleetShared
import Foundation

/// A map export checked against its map's BTF and ready to read entries
/// with: where each label's field and the value lie, how labels decode,
/// and a histogram's bounds as text.
struct CompiledExport: Sendable {
    enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    enum Decoder: Sendable {
        case plain, ksym, ipv4, ipv6, syscall, cgroup, errno
        case table([Int64: String])
    }

    struct Label: Sendable {
        var name: String
        var field: ExportField
        var decoder: Decoder
    }

    /// A histogram's slot array: `count` integers of `elementSize` bytes
    /// from `offset` in the value.
    struct Slots: Sendable {
        var offset: Int
        var elementSize: Int
        var signed: Bool
        var count: Int
        /// Each slot's `le` bound, as written in the exposition.
        var bounds: [String]
    }

    var spec: MetricExport
    var kind: Kind
    var labels: [Label]
    /// Counter and gauge: the number.
    var value: ExportField?
    var slots: Slots?
    var sum: ExportField?
    var multiplier: Double

    var map: String { spec.map }
    var name: String { spec.name }

    /// Checks `exports` (shape first, then each against its map's BTF) and
    /// compiles them. A mistake is -32602 naming the field
    /// (`data.field`, e.g. `metrics[0].labels[1].field`).
    static func compile(_ exports: [MetricExport], maps: [ProbeMap]) throws(ResponseError) -> [CompiledExport] {
        try compile(exports, maps: maps.map(\.exportable))
    }

    static func compile(_ exports: [MetricExport], maps: [ExportableMap]) throws(ResponseError) -> [CompiledExport] {
        do {
            try MetricExport.checkShape(exports)
        } catch {
            throw .invalidParams(error.description, field: error.field)
        }
        var compiled: [CompiledExport] = []
        for (index, export) in exports.enumerated() {
            do throws(MetricExportProblem) {
                compiled.append(try compile(export, at: "metrics[\(index)]", maps: maps))
            } catch {
                throw .invalidParams(error.description, field: error.field)
            }
        }
        return compiled
    }

    private static func compile(_ export: MetricExport, at path: String, maps: [ExportableMap]) throws(MetricExportProblem) -> CompiledExport {
        guard let map = maps.first(where: { $0.name == export.map }) else {
            throw MetricExportProblem("\(path).map", "the probe has no map '\(export.map)' (maps: \(maps.map(\.name).joined(separator: ", ")))")
        }
        guard map.holdsEntries else {
            throw MetricExportProblem("\(path).map", "map '\(map.name)' is a \(map.type), which holds no entries to export")
        }
        guard let valueType = map.valueType else {
            throw MetricExportProblem("\(path).map", "map '\(map.name)' has no BTF type for its value: exports read values through BTF")
        }
        let kind = CompiledExport.Kind(rawValue: export.kind) ?? .gauge
        let labelSpecs = export.labels ?? []
        var labels: [Label] = []
        if !labelSpecs.isEmpty {
            guard let keyType = map.keyType else {
                throw MetricExportProblem("\(path).labels", "map '\(map.name)' has no BTF type for its key: labels read keys through BTF")
            }
            for (index, spec) in labelSpecs.enumerated() {
                labels.append(try label(spec, at: "\(path).labels[\(index)]", in: keyType, map: map.name))
            }
        }
        let valueWhat = "the value of map '\(map.name)'"
        var compiled = CompiledExport(spec: export, kind: kind, labels: labels, value: nil, slots: nil, sum: nil,
                                      multiplier: export.buckets?.multiplier ?? 1)
        do throws(ExportFieldError) {
            let (field, type) = try ExportField.resolve(export.value, in: valueType, what: valueWhat)
            switch kind {
            case .counter, .gauge:
                guard field.isInteger else {
                    throw ExportFieldError("\(valueWhat)\(export.value.map { "'s member '\($0)'" } ?? "") is \(field.typeName); a \(kind.rawValue) reads an integer\(export.value == nil ? " (name the member with value:)" : "")")
                }
                compiled.value = field
            case .histogram:
                guard case .array(.integer(let size, let signed, _, _), let count) = type, field.bitWidth == 0, [1, 2, 4, 8].contains(size) else {
                    throw ExportFieldError("\(valueWhat)\(export.value.map { "'s member '\($0)'" } ?? "") is \(field.typeName); a histogram reads an array of integers (its slots)\(export.value == nil ? " (name the member with value:)" : "")")
                }
                guard count >= 1, count <= MetricExport.maxSlots else {
                    throw ExportFieldError("\(valueWhat): \(count) slots; a histogram has 1 to \(MetricExport.maxSlots)")
                }
                compiled.slots = Slots(offset: field.offset, elementSize: size, signed: signed, count: count,
                                       bounds: try bounds(export.buckets, count: count))
            }
        } catch {
            throw MetricExportProblem("\(path).value", error.message)
        }
        if let sum = export.sum {
            do throws(ExportFieldError) {
                let (field, _) = try ExportField.resolve(sum, in: valueType, what: valueWhat)
                guard field.isInteger else { throw ExportFieldError("\(valueWhat)'s member '\(sum)' is \(field.typeName); a sum is an integer") }
                compiled.sum = field
            } catch {
                throw MetricExportProblem("\(path).sum", error.message)
            }
        }
        return compiled
    }

    private static func label(_ spec: MetricLabel, at path: String, in keyType: BTFType, map: String) throws(MetricExportProblem) -> Label {
        let what = "the key of map '\(map)'"
        let field: ExportField
        do throws(ExportFieldError) {
            field = try ExportField.resolve(spec.field, in: keyType, what: what).field
        } catch {
            throw MetricExportProblem("\(path).field", error.message)
        }
        let member = spec.field.map { "member '\($0)'" } ?? "key"
        func need(_ ok: Bool, _ wants: String) throws(MetricExportProblem) {
            guard ok else {
                throw MetricExportProblem("\(path).decoder", "\(spec.decoder ?? "") reads \(wants); the \(member) of map '\(map)' is \(field.typeName)")
            }
        }
        let decoder: Decoder
        switch spec.decoder {
        case nil: decoder = .plain
        case "ksym":
            try need(field.isInteger && field.size == 8 && field.bitWidth == 0, "a 64-bit kernel address")
            decoder = .ksym
        case "ipv4":
            try need(field.size == 4 && field.bitWidth == 0, "4 bytes (an IPv4 address)")
            decoder = .ipv4
        case "ipv6":
            try need(field.size == 16 && field.bitWidth == 0, "16 bytes (an IPv6 address)")
            decoder = .ipv6
        case "syscall":
            try need(field.isInteger, "an integer (a syscall number)")
            decoder = .syscall
        case "cgroup":
            try need(field.isInteger && field.size == 8 && field.bitWidth == 0, "a 64-bit cgroup id")
            decoder = .cgroup
        case "errno":
            try need(field.isInteger, "an integer (an errno, or its negation)")
            decoder = .errno
        default:  // static, as checkShape allows no other
            try need(field.isInteger, "an integer")
            var table: [Int64: String] = [:]
            for (key, text) in spec.values ?? [:] {
                if let number = Int64(key) { table[number] = text } else if let number = UInt64(key) { table[Int64(bitPattern: number)] = text }
            }
            decoder = .table(table)
        }
        if case .bytes = field.shape, spec.decoder == nil {
            throw MetricExportProblem("\(path).field", "the \(member) of map '\(map)' is \(field.typeName); a label reads an integer, an enum, a char array, or an address with decoder ipv4/ipv6")
        }
        return Label(name: spec.name, field: field, decoder: decoder)
    }

    /// Each slot's `le`: the largest whole value it counts, times the
    /// multiplier.
    static func bounds(_ buckets: MetricBuckets?, count: Int) throws(ExportFieldError) -> [String] {
        let multiplier = buckets?.multiplier ?? 1
        var bounds: [String] = []
        bounds.reserveCapacity(count)
        for slot in 0..<count {
            let upper: Double
            if buckets?.type == "linear" {
                let width = Double(buckets?.width ?? 1)
                upper = Double(buckets?.min ?? 0) + Double(slot + 1) * width - 1
            } else {
                upper = slot >= 1023 ? .infinity : pow(2, Double(slot + 1)) - 1
            }
            let bound = upper * multiplier
            guard bound.isFinite else { throw ExportFieldError("slot \(slot)'s bound does not fit a number; the histogram has too many slots for its buckets") }
            bounds.append(MapExportText.number(bound))
        }
        return bounds
    }
}

/// What an export needs of a map: its name, whether it holds entries, and
/// its key and value types (nil without BTF).
struct ExportableMap: Sendable {
    var name: String
    /// `hash`, `ringbuf`...: for messages.
    var type: String
    var holdsEntries: Bool
    var keyType: BTFType?
    var valueType: BTFType?
}

extension ProbeMap {
    var exportable: ExportableMap {
        ExportableMap(name: name, type: mapTypeName(info.type), holdsEntries: io.holdsEntries, keyType: codec.keyType, valueType: codec.valueType)
    }
}

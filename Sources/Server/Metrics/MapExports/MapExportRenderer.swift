import BpfleetShared
import Logging

/// What a scrape reads of one probe: its compiled exports and their maps,
/// held open by their descriptors (a probe unloaded meanwhile leaves the
/// maps readable until the scrape lets go).
struct MapExportSource: Sendable {
    var probe: String
    var exports: [CompiledExport]
    var maps: [String: ExportMap]
}

struct ExportMap: @unchecked Sendable {
    var descriptor: OwnedDescriptor
    var io: MapIO
}

/// Reads the exported maps and writes them in the Prometheus text format
/// (docs/metrics.md, "Map exports"): each map walked in batches
/// (`BPF_MAP_LOOKUP_BATCH`), at most `maxEntriesPerProbe` entries of a
/// probe's maps per scrape, entries whose labels read the same summed into
/// one series. Runs outside the registry, on a thread that may block.
final class MapExportRenderer: Sendable {
    let maxEntriesPerProbe: Int
    let cgroups: CgroupPaths
    let symbolizer: StackSymbolizer
    let logger: Logger

    static let defaultMaxEntriesPerProbe = 65_536

    init(maxEntriesPerProbe: Int = defaultMaxEntriesPerProbe, cgroups: CgroupPaths = CgroupPaths(),
         symbolizer: StackSymbolizer = .shared, logger: Logger = Logger(label: "bpfleetd.metrics")) {
        self.maxEntriesPerProbe = maxEntriesPerProbe
        self.cgroups = cgroups
        self.symbolizer = symbolizer
        self.logger = logger
    }

    /// One export's read: its samples, and how much of the map it read.
    private struct Output {
        var probe: String
        var export: CompiledExport
        var samples: [UInt8]
        var entries: Int
        var truncated: Bool
    }

    /// The exports of `sources` (in probe order, then declaration order),
    /// grouped by metric name, followed by each export's entries read and
    /// whether the cap cut it.
    func render(_ sources: [MapExportSource]) -> [UInt8] {
        var outputs: [Output] = []
        for source in sources {
            var budget = maxEntriesPerProbe
            for export in source.exports {
                guard let map = source.maps[export.map] else { continue }
                var reading = ExportReading(export: export, probe: source.probe, renderer: self)
                var entries = 0
                var truncated = false
                do throws(KernelError) {
                    (entries, truncated) = try reading.read(map.io, budget: budget)
                } catch {
                    logger.notice("a map export could not be read", metadata: ["probe": "\(source.probe)", "metric": "\(export.name)", "error": "\(error)"])
                    continue
                }
                budget -= entries
                outputs.append(Output(probe: source.probe, export: export, samples: reading.write(), entries: entries, truncated: truncated))
            }
        }
        return Self.assemble(outputs, logger: logger)
    }

    private static func assemble(_ outputs: [Output], logger: Logger) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(outputs.reduce(0) { $0 + $1.samples.count } + outputs.count * 256)
        var families: [String: (kind: CompiledExport.Kind, members: [Int])] = [:]
        var order: [String] = []
        for (index, output) in outputs.enumerated() {
            if let family = families[output.export.name] {
                guard family.kind == output.export.kind else {
                    logger.notice("a map export is left out: another probe exports its name as another kind",
                                  metadata: ["probe": "\(output.probe)", "metric": "\(output.export.name)"])
                    continue
                }
                families[output.export.name]?.members.append(index)
            } else {
                families[output.export.name] = (output.export.kind, [index])
                order.append(output.export.name)
            }
        }
        for name in order.sorted() {
            guard let family = families[name], let first = family.members.first else { continue }
            let export = outputs[first].export
            let help = export.spec.help ?? "Map \(export.map) of probe \(outputs[first].probe)."
            MapExportText.append("# HELP \(name) \(MapExportText.help(help))\n# TYPE \(name) \(export.kind.rawValue)\n", to: &out)
            for member in family.members { out.append(contentsOf: outputs[member].samples) }
        }
        guard !outputs.isEmpty else { return out }
        MapExportText.append("# HELP bpfleet_map_export_entries Entries read from each map export's map at this scrape.\n# TYPE bpfleet_map_export_entries gauge\n", to: &out)
        for output in outputs {
            MapExportText.append("bpfleet_map_export_entries{probe=\"\(output.probe)\",metric=\"\(output.export.name)\"} \(output.entries)\n", to: &out)
        }
        MapExportText.append("# HELP bpfleet_map_export_truncated 1 when the probe's maps held more entries than a scrape reads of them (--metrics-max-entries) and this export was cut short.\n# TYPE bpfleet_map_export_truncated gauge\n", to: &out)
        for output in outputs {
            MapExportText.append("bpfleet_map_export_truncated{probe=\"\(output.probe)\",metric=\"\(output.export.name)\"} \(output.truncated ? 1 : 0)\n", to: &out)
        }
        return out
    }

    // MARK: Decoding

    /// A label's text for an integer field's value.
    fileprivate func decode(_ raw: UInt64, _ label: CompiledExport.Label, symbols: inout KernelSymbols?) -> [UInt8] {
        let signedValue = Int64(bitPattern: raw)
        let decimal = label.field.isSigned ? String(signedValue) : String(raw)
        switch label.decoder {
        case .plain:
            if case .enumeration(_, let cases) = label.field.shape, let name = cases[signedValue] { return Array(name.utf8) }
            return Array(decimal.utf8)
        case .ksym:
            if symbols == nil { symbols = symbolizer.kernelSymbols() }
            if let place = symbols?.place(of: raw) { return Array(place.symbol.utf8) }
            return Array(("0x" + String(raw, radix: 16)).utf8)
        case .syscall:
            return Array((LabelDecoding.syscallName(signedValue) ?? decimal).utf8)
        case .errno:
            return Array((LabelDecoding.errnoName(signedValue) ?? decimal).utf8)
        case .cgroup:
            return Array((cgroups.path(of: raw) ?? decimal).utf8)
        case .table(let table):
            return Array((table[signedValue] ?? decimal).utf8)
        case .ipv4, .ipv6:
            return Array(decimal.utf8)  // not reached: addresses decode from bytes
        }
    }
}

/// One export's walk of its map: entries summed into series by their
/// label text.
private struct ExportReading {
    let export: CompiledExport
    let renderer: MapExportRenderer
    /// `probe="NAME"`, which every series starts with.
    let prefix: [UInt8]
    var symbols: KernelSymbols?
    /// Each label's text by the field's value, for integer fields.
    var memo: [[UInt64: [UInt8]]]
    var index: [[UInt8]: Int] = [:]
    var labelTexts: [[UInt8]] = []
    /// Counter and gauge: one number a series; histogram: its slots, then its sum.
    var numbers: [UInt64] = []
    var width: Int

    init(export: CompiledExport, probe: String, renderer: MapExportRenderer) {
        self.export = export
        self.renderer = renderer
        prefix = Array("probe=\"\(probe)\"".utf8)
        memo = Array(repeating: [:], count: export.labels.count)
        width = export.slots.map { $0.count + 1 } ?? 1
    }

    /// Walks the map: at most `budget` entries; whether more were left.
    mutating func read(_ io: MapIO, budget: Int) throws(KernelError) -> (entries: Int, truncated: Bool) {
        guard budget > 0 else {
            let cursor = MapCursor(map: io, batchBytes: 64 << 10)
            return (0, try cursor.next() > 0)
        }
        let cursor = MapCursor(map: io, batchBytes: 1 << 20)
        var entries = 0
        var key: [UInt8] = []
        while true {
            let count = try cursor.next()
            if count == 0 { return (entries, false) }
            for item in 0..<count {
                if entries == budget { return (entries, true) }
                let keyBytes = UnsafeRawBufferPointer(rebasing: cursor.keys[(item * io.keySize)..<((item + 1) * io.keySize)])
                let valueBytes = UnsafeRawBufferPointer(rebasing: cursor.values[(item * io.valueBufferSize)..<((item + 1) * io.valueBufferSize)])
                labelText(keyBytes, into: &key)
                let series: Int
                if let known = index[key] {
                    series = known
                } else {
                    series = labelTexts.count
                    index[key] = series
                    labelTexts.append(key)
                    numbers.append(contentsOf: repeatElement(0, count: width))
                }
                add(valueBytes, io: io, to: series * width)
                entries += 1
            }
            if entries == budget { return (entries, try cursor.next() > 0) }
        }
    }

    private mutating func labelText(_ key: UnsafeRawBufferPointer, into text: inout [UInt8]) {
        text.removeAll(keepingCapacity: true)
        text.append(contentsOf: prefix)
        for (position, label) in export.labels.enumerated() {
            text.append(0x2C)  // ,
            text.append(contentsOf: label.name.utf8)
            text.append(contentsOf: [0x3D, 0x22])  // ="
            switch (label.decoder, label.field.shape) {
            case (.ipv4, _), (.ipv6, _):
                let bytes = label.field.bytes(key)
                let address = label.decoder.isIPv4 ? LabelDecoding.ipv4(bytes) : LabelDecoding.ipv6(bytes)
                text.append(contentsOf: (address ?? Hex.encode(bytes)).utf8)
            case (_, .chars):
                let bytes = label.field.bytes(key)
                let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
                MapExportText.appendLabelValue(bytes[bytes.startIndex..<end], to: &text)
            case (_, .bytes):
                text.append(contentsOf: Hex.encode(label.field.bytes(key)).utf8)
            default:
                let raw = label.field.raw(key)
                if let known = memo[position][raw] {
                    text.append(contentsOf: known)
                } else {
                    var decoded: [UInt8] = []
                    MapExportText.appendLabelValue(renderer.decode(raw, label, symbols: &symbols), to: &decoded)
                    if memo[position].count < 65_536 { memo[position][raw] = decoded }
                    text.append(contentsOf: decoded)
                }
            }
            text.append(0x22)  // "
        }
    }

    /// Adds an entry's value (every CPU's, for a per-CPU map) to a series.
    private mutating func add(_ value: UnsafeRawBufferPointer, io: MapIO, to base: Int) {
        for cpu in 0..<io.cpus {
            let start = cpu * io.valueStride
            let one = UnsafeRawBufferPointer(rebasing: value[start..<(start + io.valueSize)])
            if let slots = export.slots {
                for slot in 0..<slots.count {
                    let offset = slots.offset + slot * slots.elementSize
                    guard let raw = ValueCodec.readInteger(UnsafeRawBufferPointer(rebasing: one[offset..<(offset + slots.elementSize)]),
                                                           size: slots.elementSize) else { continue }
                    let count = slots.signed ? UInt64(bitPattern: max(0, ValueCodec.signExtend(raw, size: slots.elementSize))) : raw
                    numbers[base + slot] &+= count
                }
                if let sum = export.sum { numbers[base + slots.count] &+= sum.raw(one) }
            } else if let field = export.value {
                numbers[base] &+= field.raw(one)
            }
        }
    }

    /// The series' samples.
    func write() -> [UInt8] {
        var out: [UInt8] = []
        let name = Array(export.name.utf8)
        out.reserveCapacity(labelTexts.count * (name.count + (labelTexts.first?.count ?? 0) + 24) * (width == 1 ? 1 : width + 3))
        for (series, labels) in labelTexts.enumerated() {
            let base = series * width
            guard let slots = export.slots else {
                out.append(contentsOf: name)
                out.append(0x7B)  // {
                out.append(contentsOf: labels)
                out.append(contentsOf: [0x7D, 0x20])  // "} "
                let number = numbers[base]
                if export.value?.isSigned == true {
                    MapExportText.appendDecimal(export.kind == .counter ? max(0, Int64(bitPattern: number)) : Int64(bitPattern: number), to: &out)
                } else {
                    MapExportText.appendDecimal(number, to: &out)
                }
                out.append(0x0A)
                continue
            }
            var cumulative: UInt64 = 0
            for slot in 0...slots.count {
                let bound = slot < slots.count ? slots.bounds[slot] : "+Inf"
                if slot < slots.count { cumulative &+= numbers[base + slot] }
                out.append(contentsOf: name)
                MapExportText.append("_bucket{", to: &out)
                out.append(contentsOf: labels)
                MapExportText.append(",le=\"\(bound)\"} ", to: &out)
                MapExportText.appendDecimal(cumulative, to: &out)
                out.append(0x0A)
            }
            if let sum = export.sum {
                let raw = numbers[base + slots.count]
                let total = sum.isSigned ? Double(Int64(bitPattern: raw)) : Double(raw)
                out.append(contentsOf: name)
                MapExportText.append("_sum{", to: &out)
                out.append(contentsOf: labels)
                MapExportText.append("} \(MapExportText.number(total * export.multiplier))\n", to: &out)
            }
            out.append(contentsOf: name)
            MapExportText.append("_count{", to: &out)
            out.append(contentsOf: labels)
            out.append(contentsOf: [0x7D, 0x20])
            MapExportText.appendDecimal(cumulative, to: &out)
            out.append(0x0A)
        }
        return out
    }
}

extension CompiledExport.Decoder {
    var isIPv4: Bool {
        if case .ipv4 = self { return true }
        return false
    }
}

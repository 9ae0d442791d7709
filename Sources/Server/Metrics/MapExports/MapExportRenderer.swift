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

    /// The text of a `memo` label (`LabelReader.How`): an enum's case
    /// name, a static table's value or a cgroup's path, else the number.
    fileprivate func decode(_ raw: UInt64, _ label: CompiledExport.Label) -> [UInt8] {
        let signedValue = Int64(bitPattern: raw)
        let decimal = label.field.isSigned ? String(signedValue) : String(raw)
        switch label.decoder {
        case .plain:
            if case .enumeration(_, let cases) = label.field.shape, let name = cases[signedValue] { return Array(name.utf8) }
            return Array(decimal.utf8)
        case .cgroup:
            return Array((cgroups.path(of: raw) ?? decimal).utf8)
        case .table(let table):
            return Array((table[signedValue] ?? decimal).utf8)
        case .ipv4, .ipv6, .ksym, .syscall, .errno:
            return Array(decimal.utf8)  // not reached: each has its own `LabelReader.How`, written per entry
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
    /// `,NAME="` of each label, one after the other (`LabelReader.head`).
    let labelHeads: [UInt8]
    /// How each label reads, as plain data (no reference counting per entry).
    let readers: [LabelReader]
    /// The same of the value: the number, or the slots and the sum.
    let valueLocation: FieldLocation?
    let slotLayout: (offset: Int, elementSize: Int, signed: Bool, count: Int)?
    let sumLocation: FieldLocation?
    var symbols: KernelSymbols?
    /// Each label's text by the field's value, for integer fields.
    var memo: [[UInt64: [UInt8]]]
    var series = SeriesTable(expected: 0)
    /// Counter and gauge: one number a series; histogram: its slots, then its sum.
    var numbers: [UInt64] = []
    var width: Int

    init(export: CompiledExport, probe: String, renderer: MapExportRenderer) {
        self.export = export
        self.renderer = renderer
        prefix = Array("probe=\"\(probe)\"".utf8)
        var heads: [UInt8] = []
        var readers: [LabelReader] = []
        for label in export.labels {
            let start = heads.count
            heads += Array(",\(label.name)=\"".utf8)
            readers.append(LabelReader(label, head: start..<heads.count))
        }
        labelHeads = heads
        self.readers = readers
        valueLocation = export.value?.location
        slotLayout = export.slots.map { ($0.offset, $0.elementSize, $0.signed, $0.count) }
        sumLocation = export.sum?.location
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
        series = SeriesTable(expected: min(budget, max(io.maxEntries, 1), 1 << 16))
        while true {
            let count = try cursor.next()
            if count == 0 { return (entries, false) }
            for item in 0..<count {
                if entries == budget { return (entries, true) }
                let keyBytes = UnsafeRawBufferPointer(rebasing: cursor.keys[(item * io.keySize)..<((item + 1) * io.keySize)])
                let valueBytes = UnsafeRawBufferPointer(rebasing: cursor.values[(item * io.valueBufferSize)..<((item + 1) * io.valueBufferSize)])
                let start = series.arena.count
                // The arena is taken out while the text is written (no copy).
                var arena: [UInt8] = []
                swap(&arena, &series.arena)
                labelText(keyBytes, into: &arena)
                swap(&arena, &series.arena)
                let (found, isNew) = series.settle(from: start)
                if isNew { numbers.append(contentsOf: repeatElement(0, count: width)) }
                add(valueBytes, io: io, to: found * width)
                entries += 1
            }
            if entries == budget { return (entries, try cursor.next() > 0) }
        }
    }

    /// Appends the entry's label text to `text`.
    private mutating func labelText(_ key: UnsafeRawBufferPointer, into text: inout [UInt8]) {
        text.append(contentsOf: prefix)
        for position in readers.indices {
            let reader = readers[position]
            labelHeads.withUnsafeBufferPointer { heads in
                text.append(contentsOf: UnsafeBufferPointer(rebasing: heads[reader.head]))
            }
            switch reader.how {
            case .ipv4, .ipv6:
                let bytes = reader.field.bytes(key)
                let address = reader.how == .ipv4 ? LabelDecoding.ipv4(bytes) : LabelDecoding.ipv6(bytes)
                text.append(contentsOf: (address ?? Hex.encode(bytes)).utf8)
            case .chars:
                let bytes = reader.field.bytes(key)
                let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
                MapExportText.appendLabelValue(bytes[bytes.startIndex..<end], to: &text)
            case .bytes:
                text.append(contentsOf: Hex.encode(reader.field.bytes(key)).utf8)
            case .ksym:
                // Addresses rarely repeat: looked up each time, not kept.
                let raw = reader.field.raw(key)
                let table = symbols ?? renderer.symbolizer.kernelSymbols()
                symbols = table
                if !table.appendName(of: raw, to: &text) {
                    text.append(contentsOf: ("0x" + String(raw, radix: 16)).utf8)
                }
            case .decimal:
                let raw = reader.field.raw(key)
                if reader.field.signed { MapExportText.appendDecimal(Int64(bitPattern: raw), to: &text) } else { MapExportText.appendDecimal(raw, to: &text) }
            case .syscall, .errno:
                // Names from the generated tables: plain ASCII, nothing to escape.
                let raw = reader.field.raw(key)
                let value = Int64(bitPattern: raw)
                if let name = reader.how == .syscall ? LabelDecoding.syscallName(value) : LabelDecoding.errnoName(value) {
                    text.append(contentsOf: name.utf8)
                } else if reader.field.signed {
                    MapExportText.appendDecimal(value, to: &text)
                } else {
                    MapExportText.appendDecimal(raw, to: &text)
                }
            case .memo:
                let raw = reader.field.raw(key)
                if let known = memo[position][raw] {
                    text.append(contentsOf: known)
                } else {
                    var decoded: [UInt8] = []
                    MapExportText.appendLabelValue(renderer.decode(raw, export.labels[position]), to: &decoded)
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
            if let slots = slotLayout {
                for slot in 0..<slots.count {
                    let offset = slots.offset + slot * slots.elementSize
                    guard offset + slots.elementSize <= one.count,
                          let raw = ValueCodec.readInteger(UnsafeRawBufferPointer(rebasing: one[offset..<(offset + slots.elementSize)]),
                                                           size: slots.elementSize) else { continue }
                    let count = slots.signed ? UInt64(bitPattern: max(0, ValueCodec.signExtend(raw, size: slots.elementSize))) : raw
                    numbers[base + slot] &+= count
                }
                if let sumLocation { numbers[base + slots.count] &+= sumLocation.raw(one) }
            } else if let valueLocation {
                numbers[base] &+= valueLocation.raw(one)
            }
        }
    }

    /// The series' samples.
    func write() -> [UInt8] {
        var out: [UInt8] = []
        let name = Array(export.name.utf8)
        out.reserveCapacity((series.arena.count + series.count * (name.count + 24)) * (width == 1 ? 1 : width + 3))
        for index in 0..<series.count {
            let labels = series.arena[series.range(of: index)]
            let base = index * width
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

/// A label's field and how its text is made, without the references an
/// `ExportField` holds (its enum cases, its type's name).
private struct LabelReader {
    enum How {
        case ipv4, ipv6, chars, bytes, ksym, syscall, errno
        /// An integer in decimal.
        case decimal
        /// An enum's case name, a static table's value or a cgroup's path:
        /// made (and escaped) once per value per scrape.
        case memo
    }

    var field: FieldLocation
    var how: How
    /// Where its `,NAME="` is in `ExportReading.labelHeads`.
    var head: Range<Int>

    init(_ label: CompiledExport.Label, head: Range<Int>) {
        self.head = head
        field = label.field.location
        switch (label.decoder, label.field.shape) {
        case (.ipv4, _): how = .ipv4
        case (.ipv6, _): how = .ipv6
        case (_, .chars): how = .chars
        case (_, .bytes): how = .bytes
        case (.ksym, _): how = .ksym
        case (.syscall, _): how = .syscall
        case (.errno, _): how = .errno
        case (.plain, .integer): how = .decimal
        default: how = .memo
        }
    }
}

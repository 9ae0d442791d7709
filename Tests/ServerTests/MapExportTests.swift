@testable import BpfleetServer
import BpfleetShared
import Testing

/// Map exports checked against hand-made BTF (no kernel): where fields lie,
/// what each decoder takes, the precise errors, histogram bounds, and the
/// exposition's numbers and escapes.
@Suite struct MapExportTests {
    let maps = ServerFuzzTargets.fuzzExportMaps

    func compile(_ export: MetricExport) throws(ResponseError) -> CompiledExport {
        let compiled = try CompiledExport.compile([export], maps: maps)
        guard let first = compiled.first else { throw ResponseError(.internalError, "nothing compiled") }
        return first
    }

    func refusal(_ export: MetricExport) -> (field: String?, message: String)? {
        do {
            _ = try CompiledExport.compile([export], maps: maps)
            return nil
        } catch {
            return (error.data?["field"]?.stringValue, error.message)
        }
    }

    @Test func fieldsLieWhereTheirBTFSays() throws {
        let export = MetricExport(map: "a", name: "calls_total", kind: "counter", value: "count", labels: [
            MetricLabel(name: "nr", field: "nr", decoder: "syscall"),
            MetricLabel(name: "err", field: "err", decoder: "errno"),
            MetricLabel(name: "fn", field: "addr", decoder: "ksym"),
            MetricLabel(name: "v4", field: "v4", decoder: "ipv4"),
            MetricLabel(name: "v6", field: "inner.v6", decoder: "ipv6"),
            MetricLabel(name: "flag", field: "flag", decoder: "static", values: ["3": "three"]),
            MetricLabel(name: "kind", field: "kind"),
            MetricLabel(name: "comm", field: "comm"),
        ])
        let compiled = try compile(export)
        #expect(compiled.labels.map(\.field.offset) == [0, 4, 8, 16, 48, 0, 24, 32])
        #expect(compiled.labels[5].field.bitOffset == 160)
        #expect(compiled.labels[5].field.bitWidth == 3)
        #expect(compiled.labels[7].field.shape == .chars)
        #expect(compiled.value?.offset == 0)
        #expect(compiled.value?.size == 8)

        // A key's bytes read through those fields.
        var key = [UInt8](repeating: 0, count: 64)
        key[0] = 59                                 // nr
        key[4] = 0xFE; key[5] = 0xFF; key[6] = 0xFF; key[7] = 0xFF  // err = -2
        key[20] = 0b0000_0101                       // flag: bits 160..162 = 5
        key.withUnsafeBytes { bytes in
            #expect(compiled.labels[0].field.raw(bytes) == 59)
            #expect(Int64(bitPattern: compiled.labels[1].field.raw(bytes)) == -2)
            #expect(compiled.labels[5].field.raw(bytes) == 5)
        }
    }

    @Test func eachMistakeIsNamed() {
        let base = MetricExport(map: "a", name: "x", kind: "gauge", value: "count")
        func with(_ change: (inout MetricExport) -> Void) -> MetricExport {
            var export = base
            change(&export)
            return export
        }
        #expect(refusal(with { $0.labels = [MetricLabel(name: "x", field: "inner.x")] })?.message
                == "metrics[0].labels[0].field: the member 'inner.x' of map 'a' is a 64-bit float; a label reads an integer, an enum, a char array, or an address with decoder ipv4/ipv6")
        #expect(refusal(with { $0.labels = [MetricLabel(name: "x", field: "inner.nope")] })?.message
                == "metrics[0].labels[0].field: member 'inner' of the key of map 'a' has no member 'nope' (members: v6, x)")
        #expect(refusal(with { $0.labels = [MetricLabel(name: "x", field: "nr", decoder: "ksym")] })?.message
                == "metrics[0].labels[0].decoder: ksym reads a 64-bit kernel address; the member 'nr' of map 'a' is an unsigned 32-bit integer")
        #expect(refusal(with { $0.labels = [MetricLabel(name: "x", field: "flag", decoder: "cgroup")] })?.message
                == "metrics[0].labels[0].decoder: cgroup reads a 64-bit cgroup id; the member 'flag' of map 'a' is an unsigned 32-bit integer")
        #expect(refusal(with { $0.map = "c" })?.message == "metrics[0].map: map 'c' is a ringbuf, which holds no entries to export")
        #expect(refusal(with { $0.map = "d" })?.message == "metrics[0].map: map 'd' has no BTF type for its value: exports read values through BTF")
        #expect(refusal(with { $0.value = nil })?.message
                == "metrics[0].value: the value of map 'a' is struct value; a gauge reads an integer (name the member with value:)")
        #expect(refusal(with { $0.value = "count.low" })?.message
                == "metrics[0].value: the value of map 'a''s member 'count' is an unsigned 64-bit integer, which has no members ('low' asked for)")
        #expect(refusal(with { $0.value = nil; $0.labels = [MetricLabel(name: "i")]; $0.map = "b" }) == nil)
        #expect(refusal(with { $0.value = "a..b" })?.field == "metrics[0].value")
        #expect(refusal(with { $0.help = String(repeating: "h", count: 1025) })?.message == "metrics[0].help: 1025 bytes; at most 1024")
        #expect(refusal(with { $0.buckets = MetricBuckets(type: "log2") })?.message == "metrics[0].buckets: only a histogram has buckets")
        #expect(refusal(with { $0.sum = "count" })?.message == "metrics[0].sum: only a histogram has a sum")
        let histogram = MetricExport(map: "a", name: "h", kind: "histogram", value: "slots", buckets: MetricBuckets(type: "log2"))
        #expect(refusal(histogram) == nil)
        var negative = histogram
        negative.buckets = MetricBuckets(type: "log2", multiplier: -1)
        #expect(refusal(negative)?.message == "metrics[0].buckets.multiplier: -1.0 is not a positive finite number")
        var width = histogram
        width.buckets = MetricBuckets(type: "log2", width: 3)
        #expect(refusal(width)?.message == "metrics[0].buckets.width: only linear buckets have a width")
        // BTF whose member lies past its struct's end (the kernel refuses
        // such BTF; the check does not rely on that).
        let u64 = BTFType.integer(size: 8, signed: false, char: false, bool: false)
        let short = ExportableMap(name: "s", type: "hash", holdsEntries: true,
                                  keyType: .structure(name: "k", size: 8, members: [BTFMember(name: "far", type: u64, bitOffset: 64)]),
                                  valueType: u64)
        do {
            _ = try CompiledExport.compile([MetricExport(map: "s", name: "x", kind: "gauge", labels: [MetricLabel(name: "f", field: "far")])],
                                           maps: [short])
            Issue.record("a member past the end was taken")
        } catch {
            #expect(error.message == "metrics[0].labels[0].field: the key of map 's': far lies past the end of its 8 bytes")
        }
        let tooMany = Array(repeating: base, count: 65)
        #expect(throws: ResponseError.self) { try CompiledExport.compile(tooMany, maps: maps) }
    }

    @Test func histogramBoundsAreTheLargestValueOfEachSlot() throws {
        #expect(try CompiledExport.bounds(MetricBuckets(type: "log2"), count: 5) == ["1", "3", "7", "15", "31"])
        #expect(try CompiledExport.bounds(MetricBuckets(type: "log2", multiplier: 0.000001), count: 3) == ["1e-06", "3e-06", "7e-06"])
        #expect(try CompiledExport.bounds(MetricBuckets(type: "linear", width: 10, min: 5), count: 3) == ["14", "24", "34"])
        #expect(try CompiledExport.bounds(MetricBuckets(type: "linear", width: 10, multiplier: 0.001), count: 3) == ["0.009", "0.019", "0.029"])
        #expect(try CompiledExport.bounds(MetricBuckets(type: "log2", multiplier: 0.001), count: 12).last == "4.095")
    }

    @Test func numbersAndEscapesAreTheFormatsOwn() {
        #expect(MapExportText.number(3) == "3")
        #expect(MapExportText.number(-7) == "-7")
        #expect(MapExportText.number(0.5) == "0.5")
        #expect(MapExportText.number(1023 * 0.000001) == "0.001023")
        #expect(MapExportText.number(.infinity) == "+Inf")
        var out: [UInt8] = []
        MapExportText.appendDecimal(UInt64.max, to: &out)
        out.append(0x20)
        MapExportText.appendDecimal(Int64.min, to: &out)
        out.append(0x20)
        MapExportText.appendDecimal(UInt64(0), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "18446744073709551615 -9223372036854775808 0")
        out = []
        MapExportText.appendLabelValue(Array("a\"b\\c\nd".utf8), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"a\"b\\c\nd"#)
        out = []
        MapExportText.appendLabelValue([0x61, 0xFF, 0x62], to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "a\u{FFFD}b")
        #expect(MapExportText.help("two\nlines \\ here") == #"two\nlines \\ here"#)
    }

    @Test func aProbesSeriesAreTheLinesThatNameIt() {
        let text = """
            # HELP bpfleet_rpc_calls_total Calls.
            # TYPE bpfleet_rpc_calls_total counter
            bpfleet_rpc_calls_total{method="node.info",code="0"} 3
            # HELP bpfleet_program_runs_total Runs.
            # TYPE bpfleet_program_runs_total counter
            bpfleet_program_runs_total{probe="a",program="p",id="1",type="tracepoint"} 5
            bpfleet_program_runs_total{probe="ab",program="p",id="2",type="tracepoint"} 6
            bpfleet_program_runs_total{myprobe="a",probe="b",program="p",id="3",type="tracepoint"} 7

            """
        #expect(ServerMetrics.only(probe: "a", text) == """
            # HELP bpfleet_program_runs_total Runs.
            # TYPE bpfleet_program_runs_total counter
            bpfleet_program_runs_total{probe="a",program="p",id="1",type="tracepoint"} 5

            """)
        #expect(ServerMetrics.only(probe: "b", text).hasSuffix(#"{myprobe="a",probe="b",program="p",id="3",type="tracepoint"} 7"# + "\n"))
        #expect(ServerMetrics.only(probe: "c", text) == "")
    }

    @Test func theSeriesTableKeepsEachTextOnce() {
        var table = SeriesTable(expected: 4)
        var seen: [String: Int] = [:]
        // 5,000 entries of 1,000 texts (the table grows past its start),
        // every text written at the arena's end as the renderer does.
        for entry in 0..<5_000 {
            let text = "probe=\"p\",k=\"\(entry * 7919 % 1_000)\""
            let start = table.arena.count
            table.arena.append(contentsOf: text.utf8)
            let (series, isNew) = table.settle(from: start)
            #expect(isNew == (seen[text] == nil))
            if let known = seen[text] { #expect(series == known) } else { seen[text] = series }
            #expect(String(decoding: table.arena[table.range(of: series)], as: UTF8.self) == text)
        }
        #expect(table.count == 1_000)
        #expect(table.arena.count == seen.keys.reduce(0) { $0 + $1.utf8.count })
        // A text that is a prefix of another is another series.
        let start = table.arena.count
        table.arena.append(contentsOf: "probe=\"p\",k=\"1".utf8)
        #expect(table.settle(from: start).isNew)
    }
}

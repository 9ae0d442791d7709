@testable import BpfleetClient
import BpfleetShared
import Crypto
import Foundation
import Testing

@Suite("manifest spec hash")
struct ManifestSpecHashTests {
    let fixture: ManifestFixture

    init() throws {
        fixture = try ManifestFixture()
    }

    static let base = """
        probe: exec-count
        object: build/probe.bpf.o
        programs: [count_exec, other]
        globals: {target_tgid: 16, ratio: 0.5, name: web}
        labels: {team: obs, tier: gold}
        keepMaps: [counts]
        attach:
          - program: count_exec
            target: {type: tracepoint, category: sched, name: sched_process_exec}
          - program: other
            target: {type: kprobe, function: do_sys_openat2}
        nodes: {selector: role=web}
        rollout: {canary: 1, batch: 25%}
        """

    @Test("the canonical spec: sorted keys, no spaces, exact numbers, and its SHA-256")
    func canonicalForm() throws {
        let manifest = try fixture.parse("""
            probe: p
            object: build/probe.bpf.o
            globals: {z: 18446744073709551615, a: -1, m: "q\\"\\n\\u0001é", f: 0.5}
            attach:
              - program: x
                target: {name: sched_process_exec, category: sched, type: tracepoint}
            """)
        #expect(manifest.canonicalSpec == #"""
            {"attach":[{"program":"x","target":{"category":"sched","name":"sched_process_exec","type":"tracepoint"}}],\#
            "globals":{"a":-1,"f":0.5,"m":"q\"\n\u0001é","z":18446744073709551615},"labels":{},\#
            "objectId":"\#(manifest.objectId)","probe":"p","programs":null}
            """#)
        let hex = SHA256.hash(data: Data(manifest.canonicalSpec.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(manifest.specHash == "sha256:" + hex)
        #expect(ProbeManifest.specLabel == "bpfleet.io/spec")
    }

    @Test("key order, comments, YAML style, nodes, rollout and keepMaps leave it alone")
    func stable() throws {
        let base = try fixture.hash(Self.base)
        // The same spec written every other way.
        #expect(try fixture.hash("""
            # reordered, in block style, with comments
            rollout:
              onFailure: rollback   # not part of the spec
              canary: 0
              pause: 2m
            nodes:
              names: [db-1]
            keepMaps: []
            attach:
              - target:
                  name: sched_process_exec
                  type: tracepoint
                  category: sched
                program: count_exec
              - program: other
                target: {retprobe: false, function: do_sys_openat2, type: kprobe}   # the default written out
            labels:
              tier: gold
              team: "obs"
            globals:
              name: 'web'
              ratio: 5.0e-1
              target_tgid: 0x10
            object: ./build/../build/probe.bpf.o
            programs:
              - count_exec
              - other
            probe: exec-count
            """) == base)
        // Another object file with the same bytes.
        try fixture.write("build/copy.bpf.o", Array(try fixture.bytes("build/probe.bpf.o")))
        #expect(try fixture.hash(Self.base.replacingOccurrences(of: "build/probe.bpf.o", with: "build/copy.bpf.o")) == base)
        // Without nodes, rollout and keepMaps at all.
        let bare = Self.base.split(separator: "\n").filter { !$0.hasPrefix("nodes") && !$0.hasPrefix("rollout") && !$0.hasPrefix("keepMaps") }
        #expect(try fixture.hash(bare.joined(separator: "\n")) == base)
    }

    @Test("empty globals, labels and attach are the same as none")
    func emptyCollections() throws {
        let none = try fixture.hash("probe: p\nobject: build/probe.bpf.o\n")
        #expect(try fixture.hash("probe: p\nobject: build/probe.bpf.o\nglobals: {}\nlabels: {}\nattach: []\n") == none)
        #expect(try fixture.hash("probe: p\nobject: build/probe.bpf.o\nglobals:\nlabels: ~\nattach:\n") == none)
    }

    @Test("what lands on a node changes it", arguments: [
        ("the probe's name", "probe: exec-count", "probe: exec-count-2"),
        ("the object's bytes", "build/probe.bpf.o", "build/other.bpf.o"),
        ("a global's value", "target_tgid: 16", "target_tgid: 17"),
        ("a global's type", "ratio: 0.5", "ratio: '0.5'"),
        ("a global added", "name: web}", "name: web, extra: 1}"),
        ("a label's value", "tier: gold", "tier: silver"),
        ("a label added", "tier: gold}", "tier: gold, env: prod}"),
        ("the programs' order", "programs: [count_exec, other]", "programs: [other, count_exec]"),
        ("all programs instead of a list", "programs: [count_exec, other]\n", ""),
        ("an attach target's field", "function: do_sys_openat2}", "function: do_sys_openat2, retprobe: true}"),
        ("an attach target's type", "type: kprobe, function: do_sys_openat2", "type: fentry, function: do_sys_openat2"),
        ("an attach program", "  - program: other", "  - program: count_exec"),
    ])
    func changes(change: (String, String, String)) throws {
        let (_, from, to) = change
        #expect(Self.base.contains(from))
        #expect(try fixture.hash(Self.base.replacingOccurrences(of: from, with: to)) != (try fixture.hash(Self.base)))
    }

    @Test("map settings: in the spec when set, in either form, and a size changes it")
    func mapSettings() throws {
        let head = "probe: p\nobject: build/probe.bpf.o\n"
        let manifest = try fixture.parse(head + "maps:\n  pids: 10240\n  stacks: {valueSize: 0x400, maxEntries: 16384, numaNode: 0}\n")
        #expect(manifest.maps == ["pids": MapSettings(maxEntries: 10240),
                                  "stacks": MapSettings(maxEntries: 16384, valueSize: 1024, numaNode: 0)])
        #expect(manifest.canonicalSpec == #"""
            {"attach":[],"globals":{},"labels":{},"maps":{"pids":{"maxEntries":10240},\#
            "stacks":{"maxEntries":16384,"numaNode":0,"valueSize":1024}},"objectId":"\#(manifest.objectId)","probe":"p","programs":null}
            """#)
        let sized = try fixture.hash(head + "maps: {pids: 10240}\n")
        #expect(try fixture.hash(head + "maps:\n  pids: {maxEntries: 0x2800}\n") == sized)
        #expect(try fixture.hash(head + "maps: {pids: 10241}\n") != sized)
        #expect(try fixture.hash(head + "maps: {pids: {maxEntries: 10240, numaNode: 0}}\n") != sized)
        // No maps, or an empty mapping, hashes as a manifest did before map settings.
        #expect(try fixture.hash(head + "maps: {}\n") == (try fixture.hash(head)))
        #expect(try fixture.hash(head + "maps:\n") == (try fixture.hash(head)))
        // What the node is asked for.
        #expect(DesiredProbe(manifest: manifest).loadRequest.maps == manifest.maps)
    }

    @Test("map exports: in the spec when given, every field, and a change of any changes it")
    func metrics() throws {
        let head = "probe: p\nobject: build/probe.bpf.o\n"
        let exports = """
            metrics:
              - map: calls
                name: calls_total
                help: Calls.
                kind: counter
                labels:
                  - {name: syscall, field: key.nr, decoder: syscall}
                  - {name: level, field: level, decoder: static, values: {"0": low, "-1": none}}
              - map: lat
                name: lat_seconds
                kind: histogram
                value: slots
                sum: total
                buckets: {type: linear, width: 10, min: 5, multiplier: 0.000001}

            """
        let manifest = try fixture.parse(head + exports)
        #expect(manifest.metrics == [
            MetricExport(map: "calls", name: "calls_total", help: "Calls.", kind: "counter",
                         labels: [MetricLabel(name: "syscall", field: "key.nr", decoder: "syscall"),
                                  MetricLabel(name: "level", field: "level", decoder: "static", values: ["0": "low", "-1": "none"])]),
            MetricExport(map: "lat", name: "lat_seconds", kind: "histogram", value: "slots",
                         buckets: MetricBuckets(type: "linear", width: 10, min: 5, multiplier: 0.000001), sum: "total"),
        ])
        #expect(manifest.canonicalSpec == #"""
            {"attach":[],"globals":{},"labels":{},"metrics":[{"help":"Calls.","kind":"counter","labels":[{"decoder":"syscall","field":"key.nr","name":"syscall"},\#
            {"decoder":"static","field":"level","name":"level","values":{"-1":"none","0":"low"}}],"map":"calls","name":"calls_total"},\#
            {"buckets":{"min":5,"multiplier":1e-06,"type":"linear","width":10},"kind":"histogram","map":"lat","name":"lat_seconds","sum":"total","value":"slots"}],\#
            "objectId":"\#(manifest.objectId)","probe":"p","programs":null}
            """#)
        let base = try fixture.hash(head + exports)
        for (from, to) in [("name: calls_total", "name: calls2_total"), ("help: Calls.", "help: Calls!"), ("decoder: syscall", "decoder: errno"),
                           ("\"0\": low", "\"0\": high"), ("width: 10", "width: 20"), ("sum: total", ""), ("kind: histogram", "kind: histogram\n    help: h")] {
            #expect(exports.contains(from))
            #expect(try fixture.hash(head + exports.replacingOccurrences(of: from, with: to)) != base, "\(from) -> \(to)")
        }
        // No metrics, or an empty list, hashes as a manifest did before exports.
        #expect(try fixture.hash(head + "metrics: []\n") == (try fixture.hash(head)))
        #expect(try fixture.hash(head + "metrics:\n") == (try fixture.hash(head)))
        // What the node is asked for.
        #expect(DesiredProbe(manifest: manifest).loadRequest.metrics == manifest.metrics)
    }

    @Test("the attachments' order changes it")
    func attachOrder() throws {
        let swapped = try fixture.hash("""
            probe: exec-count
            object: build/probe.bpf.o
            programs: [count_exec, other]
            globals: {target_tgid: 16, ratio: 0.5, name: web}
            labels: {team: obs, tier: gold}
            attach:
              - program: other
                target: {type: kprobe, function: do_sys_openat2}
              - program: count_exec
                target: {type: tracepoint, category: sched, name: sched_process_exec}
            """)
        #expect(swapped != (try fixture.hash(Self.base)))
    }
}

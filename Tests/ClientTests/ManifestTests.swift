@testable import BpfleetClient
import BpfleetShared
import Crypto
import Foundation
import Testing

@Suite("probe manifests")
struct ManifestTests {
    let fixture: ManifestFixture

    init() throws {
        fixture = try ManifestFixture()
    }

    @Test("every field, read back")
    func full() throws {
        let manifest = try fixture.parse("""
            # one probe, many nodes
            probe: exec-count
            object: build/probe.bpf.o
            programs: [count_exec, other]
            globals:
              target_tgid: 0x10
              max_u64: 18446744073709551615
              min_s64: -9223372036854775808
              mask: 0b1010
              mode: 0o17
              big: 1_000_000
              ratio: 0.5
              enabled: true
              quoted: "42"
              nothing: ~
              list: [1, two, false]
              nested: {a: 1, b: [x]}
            labels: {team: obs, tier: 1}
            keepMaps: [counts, seen]
            attach:
              - program: count_exec
                target: {type: tracepoint, category: sched, name: sched_process_exec}
              - program: other
                target:
                  type: uprobe
                  binary: /usr/bin/bash
                  symbol: readline
                  pid: 42
                  retprobe: yes
              - program: other
                target: {type: tc, interface: veth0, direction: ingress, priority: 5}
            nodes:
              selector: "role=web,zone!=b"
              names: [web-1, web-2]
            rollout:
              canary: 2
              batch: 3
              maxFailures: 1
              pause: 500ms
              onFailure: rollback
            """)
        #expect(manifest.file == "probe.yaml")
        #expect(manifest.probe == "exec-count")
        #expect(manifest.objectPath == fixture.directory + "/build/probe.bpf.o")
        let bytes = try fixture.bytes("build/probe.bpf.o")
        #expect(manifest.objectBytes == bytes)
        let hex = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        #expect(manifest.objectId == "sha256:" + hex)
        #expect(manifest.programs == ["count_exec", "other"])
        #expect(manifest.globals == [
            "target_tgid": .int(16),
            "max_u64": .uint(UInt64.max),
            "min_s64": .int(Int64.min),
            "mask": .int(10),
            "mode": .int(15),
            "big": .int(1_000_000),
            "ratio": .double(0.5),
            "enabled": .bool(true),
            "quoted": .string("42"),
            "nothing": .null,
            "list": [1, "two", false],
            "nested": ["a": 1, "b": ["x"]],
        ])
        #expect(manifest.labels == ["team": "obs", "tier": "1"])
        #expect(manifest.keepMaps == ["counts", "seen"])
        #expect(manifest.attach == [
            ManifestAttachment(program: "count_exec", target: .tracepoint(category: "sched", name: "sched_process_exec"), line: 21),
            ManifestAttachment(program: "other", target: .uprobe(binary: "/usr/bin/bash", symbol: "readline", offset: nil, pid: 42,
                                                                 retprobe: true), line: 23),
            ManifestAttachment(program: "other", target: .tc(interface: "veth0", direction: "ingress", priority: 5), line: 30),
        ])
        #expect(manifest.nodes == ManifestNodes(selector: "role=web,zone!=b", names: ["web-1", "web-2"], line: 32))
        #expect(manifest.rollout == RolloutPolicy(canary: 2, batch: .count(3), maxFailures: 1, pause: .milliseconds(500),
                                                  onFailure: .rollback))
        #expect(manifest.nodeLabels == ["team": "obs", "tier": "1", ProbeManifest.specLabel: manifest.specHash])
        #expect(manifest.objectUpload.data == bytes.base64EncodedString())
        #expect(manifest.objectUpload.name == "probe.bpf.o")
    }

    @Test("only probe and object: every default")
    func defaults() throws {
        let manifest = try fixture.parse("""
            probe: p
            object: build/probe.bpf.o
            """)
        #expect(manifest.probe == "p")
        #expect(manifest.programs == nil)
        #expect(manifest.globals == nil)
        #expect(manifest.labels == nil)
        #expect(manifest.keepMaps == nil)
        #expect(manifest.attach.isEmpty)
        #expect(manifest.nodes == nil)
        #expect(manifest.rollout == RolloutPolicy())
        #expect(RolloutPolicy() == RolloutPolicy(canary: 1, batch: .percent(25), maxFailures: 0, pause: .zero, onFailure: .stop))
        #expect(manifest.nodeLabels == [ProbeManifest.specLabel: manifest.specHash])
    }

    @Test("an optional key left empty is as good as absent")
    func emptyOptionals() throws {
        let manifest = try fixture.parse("""
            probe: p
            object: build/probe.bpf.o
            programs:
            globals: ~
            labels:
            keepMaps:
            attach:
            nodes: {}
            rollout: {}
            """)
        #expect(manifest.programs == nil)
        #expect(manifest.globals == nil)
        #expect(manifest.labels == nil)
        #expect(manifest.keepMaps == nil)
        #expect(manifest.attach.isEmpty)
        #expect(manifest.nodes == nil)
        #expect(manifest.rollout == RolloutPolicy())
    }

    @Test("rollout values in each form they take")
    func rolloutForms() throws {
        func rollout(_ yaml: String) throws -> RolloutPolicy {
            try fixture.parse("probe: p\nobject: build/probe.bpf.o\nrollout: {\(yaml)}").rollout
        }
        #expect(try rollout("batch: 1%").batch == .percent(1))
        #expect(try rollout("batch: 100%").batch == .percent(100))
        #expect(try rollout("batch: '50%'").batch == .percent(50))
        #expect(try rollout("batch: 1").batch == .count(1))
        #expect(try rollout("canary: 0").canary == 0)
        #expect(try rollout("pause: 0").pause == .zero)
        #expect(try rollout("pause: 0s").pause == .zero)
        #expect(try rollout("pause: 5s").pause == .seconds(5))
        #expect(try rollout("pause: 2m").pause == .seconds(120))
        #expect(try rollout("pause: 1440m").pause == .seconds(86_400))
        #expect(try rollout("onFailure: stop").onFailure == .stop)
    }

    @Test("an absolute object path is used as written; a relative one from the manifest's directory")
    func objectPaths() throws {
        let absolute = try fixture.parse("probe: p\nobject: \(fixture.directory)/build/other.bpf.o")
        #expect(absolute.objectPath == fixture.directory + "/build/other.bpf.o")
        #expect(absolute.objectBytes == (try fixture.bytes("build/other.bpf.o")))

        let yaml = "probe: p\nobject: build/probe.bpf.o\n"
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: fixture.directory + "/probe.yaml"))
        let loaded = try ProbeManifest.load(path: fixture.directory + "/probe.yaml")
        #expect(loaded.file == fixture.directory + "/probe.yaml")
        #expect(loaded.objectPath == fixture.directory + "/build/probe.bpf.o")
    }

    @Test("anchors and aliases are read as the values they name")
    func aliases() throws {
        let manifest = try fixture.parse("""
            probe: p
            object: build/probe.bpf.o
            attach:
              - program: a
                target: &exec {type: tracepoint, category: sched, name: sched_process_exec}
              - program: b
                target: *exec
            """)
        #expect(manifest.attach.map(\.target) == Array(repeating: .tracepoint(category: "sched", name: "sched_process_exec"), count: 2))
    }

    @Test("a leading ---, a closing ... and empty documents around the one document are fine")
    func documentMarkers() throws {
        #expect(try fixture.parse("---\nprobe: p\nobject: build/probe.bpf.o\n...\n").probe == "p")
        #expect(try fixture.parse("probe: p\nobject: build/probe.bpf.o\n---\n").probe == "p")
        #expect(try fixture.parse("---\n# first\n---\nprobe: p\nobject: build/probe.bpf.o\n---\n# the end\n").probe == "p")
    }

    @Test("integers as YAML writes them, exact over 64 bits")
    func integers() throws {
        func integer(_ text: String) -> JSONValue? { try? YAMLInteger.parse(text) }
        #expect(integer("0") == .int(0))
        #expect(integer("-0") == .int(0))
        #expect(integer("+5") == .int(5))
        #expect(integer("1_000") == .int(1000))
        #expect(integer("0x_ff") == .int(255))
        #expect(integer("-0x10") == .int(-16))
        #expect(integer("0o17") == .int(15))
        #expect(integer("0b101") == .int(5))
        #expect(integer("9223372036854775807") == .int(Int64.max))
        #expect(integer("9223372036854775808") == .uint(9_223_372_036_854_775_808))
        #expect(integer("0xffffffffffffffff") == .uint(UInt64.max))
        #expect(integer("-9223372036854775808") == .int(Int64.min))
        #expect(integer("-9223372036854775809") == nil)
        #expect(integer("0x1_0000_0000_0000_0000") == nil)
        #expect(integer("0x") == nil)
        #expect(integer("00") == nil)
        #expect(integer("0755") == nil)
        #expect(integer("1:30") == nil)
    }

    @Test("examples/exec-count.yaml loads with the object the Makefile builds",
          .enabled(if: ManifestFixture.programsBuilt, "needs programs/build/exec_count.bpf.o: make programs"))
    func example() throws {
        let manifest = try ProbeManifest.load(path: ManifestFixture.repository + "/examples/exec-count.yaml")
        #expect(manifest.probe == "exec-count")
        #expect(URL(fileURLWithPath: manifest.objectPath).standardized.path == ManifestFixture.execCountObject)
        #expect(manifest.objectId == ProbeManifest.objectId(of: try Data(contentsOf: URL(fileURLWithPath: ManifestFixture.execCountObject))))
        #expect(manifest.programs == ["count_exec"])
        #expect(manifest.keepMaps == ["exec_counts"])
        #expect(manifest.metrics == [MetricExport(map: "exec_counts", name: "execs_total", help: "exec() calls, by the command name after the exec.",
                                                  kind: "counter", labels: [MetricLabel(name: "comm", field: "comm")])])
        #expect(manifest.attach.map(\.program) == ["count_exec"])
        #expect(manifest.attach.map(\.target) == [.tracepoint(category: "sched", name: "sched_process_exec")])
        #expect(manifest.rollout == RolloutPolicy(canary: 1, batch: .percent(25), maxFailures: 0, onFailure: .rollback))
        #expect(manifest.labels?[ProbeManifest.specLabel] == nil)
    }

    @Test("the real objects the Makefile builds pass the ELF check",
          .enabled(if: ManifestFixture.programsBuilt, "needs programs/build/*.bpf.o: make programs"))
    func realObjects() throws {
        let build = ManifestFixture.repository + "/programs/build"
        let objects = try FileManager.default.contentsOfDirectory(atPath: build).filter { $0.hasSuffix(".bpf.o") }
        #expect(!objects.isEmpty)
        for object in objects {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(build)/\(object)"))
            #expect(BPFObjectHeader.problem(with: bytes) == nil, "\(object)")
        }
    }
}

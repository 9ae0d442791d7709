import BpfleetShared
import Foundation
import TestSupport
import Testing
import Yams

/// kubectl's habits where bpfleet has the same verbs (issue 17): `-o yaml`
/// and `-o wide`, `apply -f` of a directory, of standard input and of
/// several documents, `delete --dry-run`, `diff -f`, `probe list -L`, and a
/// rollback shown in the apply table. Two real bpfleetd processes named by
/// an inventory; every node is read back through its own socket.
@Suite(.requiresKernel)
struct KubectlHabitsTests {
    /// A probe loaded and not attached: nothing in it changes between two
    /// reads, so two outputs of the same listing can be compared whole.
    static func idle(_ name: String = "habits-a", labels: String = "{team: tests}", rollout: String = "") -> String {
        """
        probe: \(name)
        object: \(TestEnvironment.programPath("exec_count_raw"))
        labels: \(labels)
        nodes: {selector: role}
        \(rollout)

        """
    }

    static func execs(_ name: String = "habits-b", labels: String = "{team: ops}") -> String {
        """
        probe: \(name)
        object: \(TestEnvironment.programPath("exec_count_raw"))
        labels: \(labels)
        attach:
          - program: count_exec
            target: {type: raw_tracepoint, name: sched_process_exec}
        nodes: {selector: role}

        """
    }

    /// Table lines with their columns' padding collapsed to one space.
    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
    }

    /// What a YAML text holds, read with the types its tags resolve to
    /// (a quoted "123" stays a string), as JSONValue to compare with JSON.
    static func yamlValue(_ text: String) throws -> JSONValue {
        let node = try #require(try Yams.compose(yaml: text))
        return try value(node)
    }

    static func value(_ node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool:
                guard let flag = Bool.construct(from: scalar) else { throw TestFailure("'\(scalar.string)' is not a YAML boolean") }
                return .bool(flag)
            case .int:
                if let number = Int64(scalar.string) { return .int(number) }
                return .uint(try #require(UInt64(scalar.string)))
            case .float:
                let number: Double? = Double.construct(from: scalar)
                return .double(try #require(number))
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            return .array(try sequence.map(value))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, element) in mapping { members[try #require(key.string)] = try value(element) }
            return .object(members)
        case .alias:
            throw TestFailure("an alias in bpfleet's YAML")
        }
    }

    static func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func yamlReadsBackAsTheJSONAndWideAndProbeSelectorsShowWhatTheySay() async throws {
        try await withFleet(count: 2) { fleet in
            let path = try fleet.manifest(Self.idle())
            let apply = try fleet.bpfleet(["apply", "-f", path])
            #expect(apply.status == 0, "\(apply.stderr)")

            // The same data, whatever the command: a listing of every node,
            // a fleet status, a dry run, a diff.
            for command in [["-l", "role", "probe", "list"], ["status", "-f", path], ["apply", "-f", path, "--dry-run"],
                            ["-l", "role", "probe", "get", "habits-a"], ["diff", "-f", path]] {
                let json = try fleet.bpfleet(command + ["-o", "json"])
                let yaml = try fleet.bpfleet(command + ["-o", "yaml"])
                #expect(json.status == 0 && yaml.status == 0, "\(command): \(json.stderr)\(yaml.stderr)")
                #expect(!yaml.stdout.hasPrefix("[") && !yaml.stdout.hasPrefix("{"), "\(command): \(yaml.stdout)")
                #expect(try Self.yamlValue(yaml.stdout) == Self.json(json.stdout), "\(command)")
            }

            let probe = try fleet.servers[0].client().call("probe.get", ["probe": "habits-a"])
            let objectID = try #require(probe["objectId"]?.stringValue)
            let spec = try #require(probe["labels"]?["bpfleet.io/spec"]?.stringValue)
            let maps = try #require(probe["maps"]?.arrayValue.count)
            let runs = probe["programs"]?.arrayValue.first?["runCount"]?.int64Value.map(String.init) ?? "-"
            // NAME OBJECT STATE ORIGIN PROGRAMS MAPS LINKS RUNS LOADED LABELS,
            // the object and the spec shortened to 12 hex digits.
            let table = try fleet.bpfleet(["-n", "node-00", "probe", "list"])
            #expect(Self.lines(table.stdout) == [
                "NAME OBJECT STATE ORIGIN PROGRAMS MAPS LINKS RUNS LOADED LABELS",
                "habits-a \(objectID.prefix(19)) running loaded 1 \(maps) 0 \(runs) \(Self.lines(table.stdout).last?.split(separator: " ")[8] ?? "") bpfleet.io/spec=\(spec.prefix(19)),team=tests",
            ])
            let wide = try fleet.bpfleet(["-n", "node-00", "probe", "list", "-o", "wide"])
            #expect(Self.lines(wide.stdout) == [
                "NAME OBJECT STATE ORIGIN PROGRAMS MAPS LINKS RUNS LOADED METRICS LABELS",
                "habits-a \(objectID) running loaded 1 \(maps) 0 \(runs) \(Self.lines(table.stdout).last?.split(separator: " ")[8] ?? "") 0 bpfleet.io/spec=\(spec),team=tests",
            ])

            // -l chooses nodes, -L chooses probes by their own labels.
            let chosen = try fleet.bpfleet(["-l", "role", "probe", "list", "-L", "team=tests", "-o", "json"])
            #expect(try Self.json(chosen.stdout).arrayValue.map { $0["result"]?["probes"]?.arrayValue.map { $0["name"] } } == [["habits-a"], ["habits-a"]])
            let none = try fleet.bpfleet(["-l", "role", "probe", "list", "-L", "team in (ops),bpfleet.io/spec", "-o", "json"])
            #expect(try Self.json(none.stdout).arrayValue.map { $0["result"]?["probes"] } == [[], []])
            let bad = try fleet.bpfleet(["probe", "list", "-L", "team in ("])
            #expect(bad.status == 64)
            #expect(bad.stderr.hasPrefix("Error: --probe-selector: "), "\(bad.stderr)")

            #expect(try fleet.bpfleet(["delete", "-f", path]).status == 0)
        }
    }

    @Test func applyTakesADirectoryStandardInputAndDocumentsInOrderWithOneSummary() async throws {
        try await withFleet(count: 2) { fleet in
            let directory = fleet.directory + "/probes"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try createFile(directory + "/b.yaml", contents: Data(Self.execs().utf8))
            try createFile(directory + "/a.yml", contents: Data(Self.idle().utf8))
            try createFile(directory + "/notes.txt", contents: Data("not a manifest".utf8))

            let apply = try fleet.bpfleet(["apply", "-f", directory])
            #expect(apply.status == 0, "\(apply.stderr)")
            #expect(Self.lines(apply.stdout) == [
                "PROBE NODE BATCH WAS ACTION DETAIL",
                "habits-a node-00 canary missing created no probe of that name",
                "habits-a node-01 2 missing created no probe of that name",
                "habits-b node-00 canary missing created no probe of that name",
                "habits-b node-01 2 missing created no probe of that name",
                "complete: 2 probes: 4 created, 0 replaced, 0 unchanged, 0 failed, 0 unreachable (of 4 node rollouts)",
            ])
            for server in fleet.servers {
                #expect(try server.client().call("probe.list")["probes"]?.arrayValue.map { $0["name"] } == ["habits-a", "habits-b"])
            }

            // Standard input, two documents: one changed, one as it runs.
            let stream = fleet.directory + "/stream.yaml"
            try createFile(stream, contents: Data((Self.idle(labels: "{team: tests, tier: \"2\"}") + "---\n" + Self.execs()).utf8))
            let piped = try fleet.bpfleet(["apply", "-f", "-", "-o", "json"], standardInput: stream)
            #expect(piped.status == 0, "\(piped.stderr)")
            let document = try Self.json(piped.stdout)
            #expect(document["probes"]?.arrayValue.map { $0["probe"] } == ["habits-a", "habits-b"])
            #expect(document["probes"]?.arrayValue.map { $0["nodes"]?.arrayValue.map { $0["action"] } } == [["replaced", "replaced"], ["unchanged", "unchanged"]])
            #expect(document["summary"]?["replaced"] == 2 && document["summary"]?["unchanged"] == 2 && document["summary"]?["nodes"] == 4)
            #expect(document["notStarted"] == [])
            #expect(try fleet.servers[1].client().call("probe.get", ["probe": "habits-a"])["labels"]?["tier"] == "2")

            // Mistakes refuse the whole input before any node is asked.
            try createFile(directory + "/c.yaml", contents: Data(Self.idle().utf8))
            let twice = try fleet.bpfleet(["apply", "-f", directory])
            #expect(twice.status == 64)
            #expect(twice.stderr == "bpfleet: \(directory)/c.yaml: probe habits-a is given in \(directory)/a.yml and in \(directory)/c.yaml: each probe once\n")
            try FileManager.default.removeItem(atPath: directory + "/c.yaml")
            try createFile(directory + "/c.yaml", contents: Data(try String(contentsOfFile: fleet.inventory, encoding: .utf8).utf8))
            let inventory = try fleet.bpfleet(["apply", "-f", directory])
            #expect(inventory.status == 64)
            #expect(inventory.stderr == "bpfleet: \(directory)/c.yaml: an inventory of nodes, not a probe manifest: give it with --inventory\n")
            let missing = try fleet.bpfleet(["apply", "-f", directory + "/none.yaml"])
            #expect(missing.status == 64)
            #expect(missing.stderr == "bpfleet: \(directory)/none.yaml: cannot read the manifest: No such file or directory\n")
            let empty = fleet.directory + "/empty"
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            let nothing = try fleet.bpfleet(["apply", "-f", empty])
            #expect(nothing.status == 64)
            #expect(nothing.stderr == "bpfleet: \(empty): a directory with no manifest in it (no *.yaml or *.yml file)\n")
            let broken = fleet.directory + "/broken.yaml"
            try createFile(broken, contents: Data((Self.execs() + "---\nprobe: x\nobjekt: y\n").utf8))
            let refused = try fleet.bpfleet(["apply", "-f", "-"], standardInput: broken)
            #expect(refused.status == 64)
            #expect(refused.stderr.hasPrefix("bpfleet: (stdin):"), "\(refused.stderr)")
            #expect(refused.stderr.contains("objekt: unknown key; did you mean 'object'?"), "\(refused.stderr)")
            for server in fleet.servers {
                #expect(try server.client().call("probe.list")["probes"]?.arrayValue.count == 2)
            }

            // delete --dry-run says what it would do and does nothing.
            try FileManager.default.removeItem(atPath: directory + "/c.yaml")
            let dry = try fleet.bpfleet(["delete", "-f", directory, "--dry-run"])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(Self.lines(dry.stdout) == [
                "PROBE NODE PLAN DETAIL",
                "habits-a node-00 would be unloaded", "habits-a node-01 would be unloaded",
                "habits-b node-00 would be unloaded", "habits-b node-01 would be unloaded",
                "dry run: delete habits-a: 2 would be unloaded, 0 absent, 0 failed, 0 unreachable (of 2)",
                "dry run: delete habits-b: 2 would be unloaded, 0 absent, 0 failed, 0 unreachable (of 2)",
            ])
            for server in fleet.servers {
                #expect(try server.client().call("probe.list")["probes"]?.arrayValue.count == 2)
            }
            let delete = try fleet.bpfleet(["delete", "-f", directory])
            #expect(delete.status == 0, "\(delete.stderr)")
            let again = try fleet.bpfleet(["-n", "node-00", "delete", "-f", directory + "/a.yml", "--dry-run"])
            #expect(Self.lines(again.stdout) == ["NODE PLAN DETAIL", "node-00 absent",
                                                 "dry run: delete habits-a: 0 would be unloaded, 1 absent, 0 failed, 0 unreachable (of 1)"])
            for server in fleet.servers {
                #expect(try server.client().call("probe.list")["probes"] == [])
                #expect(server.pins().isEmpty)
            }
        }
    }

    @Test func diffNamesEachFieldApplyWouldChangeAndNothingWhenInSync() async throws {
        try await withFleet(count: 2) { fleet in
            let path = try fleet.manifest(Self.idle())
            let missing = try fleet.bpfleet(["diff", "-f", path])
            #expect(missing.status == 1)
            #expect(missing.stdout == "node-00: habits-a: probe: null -> habits-a\nnode-01: habits-a: probe: null -> habits-a\n")
            #expect(try fleet.bpfleet(["apply", "-f", path]).status == 0)

            let same = try fleet.bpfleet(["diff", "-f", path])
            #expect(same.status == 0, "\(same.stderr)")
            #expect(same.stdout == "")
            #expect(same.stderr == "")

            let oldSpec = try #require(try fleet.servers[0].client().call("probe.get", ["probe": "habits-a"])["labels"]?["bpfleet.io/spec"]?.stringValue)
            let changed = try fleet.manifest(Self.idle(labels: "{team: net}"), named: "changed.yaml")
            let newSpec = try #require(try Self.json(try fleet.bpfleet(["apply", "-f", changed, "--dry-run", "-o", "json"]).stdout)["nodes"]?
                .arrayValue.first?["detail"]?.stringValue)
            let diff = try fleet.bpfleet(["diff", "-f", changed])
            #expect(diff.status == 1, "\(diff.stderr)")
            let lines = diff.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4, "\(diff.stdout)")
            for node in ["node-00", "node-01"] {
                #expect(lines.contains("\(node): habits-a: labels.team: \"tests\" -> \"net\""), "\(diff.stdout)")
                #expect(lines.contains { $0.hasPrefix("\(node): habits-a: labels.bpfleet.io/spec: \"\(oldSpec)\" -> \"sha256:") }, "\(diff.stdout)")
            }
            #expect(!newSpec.isEmpty)
            let json = try Self.json(try fleet.bpfleet(["-n", "node-01", "diff", "-f", changed, "-o", "json"]).stdout)
            #expect(json.arrayValue.first?["changes"]?.arrayValue.first { $0["field"] == "labels.team" } == ["field": "labels.team", "node": "\"tests\"", "manifest": "\"net\""])
            // A diff changes nothing.
            #expect(try fleet.servers[0].client().call("probe.get", ["probe": "habits-a"])["labels"]?["team"] == "tests")

            // A node that cannot be read: exit 2, named on stderr.
            fleet.servers[1].stop()
            let down = try fleet.bpfleet(["diff", "-f", changed])
            #expect(down.status == 2)
            #expect(down.stderr.hasPrefix("bpfleet: node-01: "), "\(down.stderr)")
            #expect(try fleet.bpfleet(["-n", "node-00", "delete", "-f", path]).status == 0)
        }
    }

    @Test func aRolledBackNodeSaysSoInTheApplyTable() async throws {
        try await withFleet(count: 2) { fleet in
            fleet.servers[1].stop()
            let path = try fleet.manifest(Self.idle(rollout: "rollout: {canary: 2, maxFailures: 0, onFailure: rollback}"))
            let apply = try fleet.bpfleet(["apply", "-f", path])
            #expect(apply.status == 1, "\(apply.stdout)\(apply.stderr)")
            let lines = Self.lines(apply.stdout)
            #expect(lines.first == "NODE BATCH WAS ACTION DETAIL")
            #expect(lines.contains("node-00 canary missing created, rolled back no probe of that name"), "\(apply.stdout)")
            #expect(lines.contains { $0.hasPrefix("node-01 canary - unreachable ") }, "\(apply.stdout)")
            #expect(lines.last == "rolled back (1 node): 1 created, 0 replaced, 0 unchanged, 0 failed, 1 unreachable (of 2)")
            #expect(try fleet.servers[0].client().call("probe.list")["probes"] == [])
            #expect(fleet.servers[0].pins().isEmpty)
        }
    }
}

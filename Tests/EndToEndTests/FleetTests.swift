import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `bpfleet apply`, `status` and `delete` on a fleet of 20 real bpfleetd
/// processes named by an inventory: every node's probe is checked through
/// its own socket and bpftool, and every count is exact.
@Suite(.requiresKernel)
struct FleetTests {
    /// The raw tracepoint build of the exec counter: a tracepoint takes at
    /// most 64 BPF programs in one kernel (E2BIG after), and these tests put
    /// one on each of 20 nodes while other suites run theirs.
    static func manifest(labels: String = "{team: tests}", nodes: String = "", rollout: String = "") -> String {
        """
        probe: fleet-execs
        object: \(TestEnvironment.programPath("exec_count_raw"))
        labels: \(labels)
        keepMaps: [exec_counts]
        attach:
          - program: count_exec
            target: {type: raw_tracepoint, name: sched_process_exec}
        \(nodes)
        \(rollout)
        """
    }

    /// The probe on every node, through each node's own socket (nil for
    /// the nodes skipped: stopped ones).
    func probes(_ fleet: Fleet, skipping: Set<Int> = []) throws -> [JSONValue?] {
        try fleet.servers.enumerated().map { index, server in
            guard !skipping.contains(index) else { return nil }
            return try server.client().call("probe.list")["probes"]?.arrayValue.first { $0["name"] == "fleet-execs" }
        }
    }

    func count(_ server: ServerProcess, comm: String) throws -> UInt64 {
        try server.client().counter("fleet-execs", "exec_counts", ["comm": .string(comm)])
    }

    @Test func applyReachesAllReapplyChangesNothingAndAChangedSpecReplacesEverywhere() async throws {
        try await withFleet { fleet in
            let path = try fleet.manifest(Self.manifest(nodes: "nodes: {selector: role}", rollout: "rollout: {pause: 50ms}"))
            let apply = try fleet.bpfleet(["apply", "-f", path, "-o", "ndjson"])
            #expect(apply.status == 0, "\(apply.stderr)")
            let events = try Fleet.lines(apply.stdout)
            let steps = events.filter { $0["event"] == "node" }
            #expect(steps.count == 20)
            #expect(steps.allSatisfy { $0["action"] == "created" && $0["ok"] == true })
            #expect(events.last?["event"] == "done")
            #expect(events.last?["result"] == "complete")
            #expect(events.last?["created"] == 20)
            // Canary of 1, then batches of 25% (5 nodes): 1 + 5 + 5 + 5 + 4.
            #expect(events.first?["batches"]?.arrayValue.map { $0.arrayValue.count } == [1, 5, 5, 5, 4])
            // A pause between batches, not after the last; each batch's nodes before its line.
            #expect(events.filter { $0["event"] == "pause" }.map { $0["afterBatch"] } == [0, 1, 2, 3])
            #expect(events.filter { $0["event"] == "pause" }.allSatisfy { $0["seconds"] == .double(0.05) })
            #expect(events.compactMap { $0["event"] == "batch" ? $0["ok"] : nil } == [1, 5, 5, 5, 4])
            var order: [String] = []
            for event in events {
                guard let kind = event["event"]?.stringValue, kind == "node" || kind == "batch",
                      let batch = event["batch"]?.int64Value else { continue }
                order.append("\(kind)\(batch)")
            }
            var expected = ["node0", "batch0"]
            for batch in 1...4 {
                expected += Array(repeating: "node\(batch)", count: batch == 4 ? 4 : 5)
                expected.append("batch\(batch)")
            }
            #expect(order == expected)

            let first = try probes(fleet)
            let spec = try #require(first[0]?["labels"]?["bpfleet.io/spec"]?.stringValue)
            #expect(spec.hasPrefix("sha256:"))
            var programIDs: [UInt32] = []
            for probe in first {
                let probe = try #require(probe)
                #expect(probe["labels"] == ["team": "tests", "bpfleet.io/spec": .string(spec)])
                let programID = try #require(probe["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
                let linkID = try #require(probe["links"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
                #expect(try Bpftool.show("prog", id: programID)?["name"] as? String == "count_exec")
                #expect(try Bpftool.show("link", id: linkID)?["prog_id"] as? Int == Int(programID))
                programIDs.append(programID)
            }
            #expect(Set(programIDs).count == 20)

            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 5)
            for server in fleet.servers { #expect(try count(server, comm: binary.comm) == 5) }

            // Again: nothing to do, nothing touched.
            let again = try fleet.bpfleet(["apply", "-f", path])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.contains("complete: 0 created, 0 replaced, 20 unchanged, 0 failed, 0 unreachable (of 20)"), "\(again.stdout)")
            #expect(try probes(fleet).map { $0?["programs"]?.arrayValue.first?["id"]?.uint64Value?.asUInt32 } == programIDs)

            // A changed spec: a new label. Every node's probe is replaced, its
            // counts kept (keepMaps), its tracepoint link moved.
            let changed = try fleet.manifest(Self.manifest(labels: "{team: tests, version: \"2\"}", nodes: "nodes: {selector: role}"))
            let replace = try fleet.bpfleet(["apply", "-f", changed, "-o", "json"])
            #expect(replace.status == 0, "\(replace.stderr)")
            let document = try JSONDecoder().decode(JSONValue.self, from: Data(replace.stdout.utf8))
            #expect(document["summary"]?["replaced"] == 20)
            #expect(document["nodes"]?.arrayValue.map { $0["node"] } == (0..<20).map { .string(Fleet.name($0)) })
            let second = try probes(fleet)
            let newSpec = try #require(second[0]?["labels"]?["bpfleet.io/spec"]?.stringValue)
            #expect(newSpec != spec)
            for (index, probe) in second.enumerated() {
                let probe = try #require(probe)
                #expect(probe["labels"]?["version"] == "2")
                #expect(probe["labels"]?["bpfleet.io/spec"] == .string(newSpec))
                #expect(probe["links"]?.arrayValue.map { $0["linkId"] } == [1])
                let programID = try #require(probe["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
                #expect(programID != programIDs[index])
                #expect(try Bpftool.isGone("prog", id: programIDs[index]))
            }
            try Workload.exec(binary.path, times: 3)
            for server in fleet.servers { #expect(try count(server, comm: binary.comm) == 8) }

            let delete = try fleet.bpfleet(["delete", "-f", changed])
            #expect(delete.status == 0, "\(delete.stderr)")
            #expect(try probes(fleet).allSatisfy { $0 == nil })
            for server in fleet.servers { #expect(server.pins().isEmpty) }
        }
    }

    @Test func aNodeDownStopsTheRolloutAfterTheCanaryAndRollbackLeavesNoProbe() async throws {
        try await withFleet { fleet in
            // node-01, in the canary batch of two, is down.
            fleet.servers[1].stop()
            let path = try fleet.manifest(Self.manifest(nodes: "nodes: {selector: role}", rollout: """
                rollout: {canary: 2, batch: 6, maxFailures: 0, onFailure: rollback}
                """))
            let apply = try fleet.bpfleet(["apply", "-f", path, "-o", "ndjson"])
            #expect(apply.status == 1, "\(apply.stdout)\(apply.stderr)")
            let events = try Fleet.lines(apply.stdout)
            let steps = events.filter { $0["event"] == "node" }
            #expect(Set(steps.compactMap { $0["node"]?.stringValue }) == ["node-00", "node-01"])
            #expect(steps.first { $0["node"] == "node-00" }?["action"] == "created")
            #expect(steps.first { $0["node"] == "node-01" }?["error"]?["kind"] == "unreachable")
            let stop = try #require(events.first { $0["event"] == "stopped" })
            #expect(stop["afterBatch"] == 0)
            #expect(stop["notStarted"] == 18)
            let rollback = events.filter { $0["event"] == "rollback" }
            #expect(rollback.map { $0["node"] } == ["node-00"])
            #expect(rollback.first?["action"] == "unloaded")
            #expect(events.last?["result"] == "rolledBack")

            for (index, server) in fleet.servers.enumerated() where index != 1 {
                #expect(try server.client().call("probe.list")["probes"] == [], "node \(index)")
                #expect(server.pins().isEmpty)
            }
        }
    }

    @Test func rollbackPutsBackTheSpecThatRanBeforeAndKeepsTheCounts() async throws {
        try await withFleet { fleet in
            let first = try fleet.manifest(Self.manifest(nodes: "nodes: {selector: role}", rollout: "rollout: {canary: 0, batch: 100%}"))
            #expect(try fleet.bpfleet(["apply", "-f", first]).status == 0)
            let before = try probes(fleet)
            let spec = try #require(before[0]?["labels"]?["bpfleet.io/spec"])
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 4)

            // A changed spec whose canary (node-00, node-01) meets node-01 down.
            fleet.servers[1].stop()
            let second = try fleet.manifest(Self.manifest(labels: "{team: tests, version: \"2\"}", nodes: "nodes: {selector: role}",
                                                      rollout: "rollout: {canary: 2, batch: 6, maxFailures: 0, onFailure: rollback}"),
                                        named: "second.yaml")
            let apply = try fleet.bpfleet(["apply", "-f", second, "-o", "ndjson"])
            // No node holds the second spec: exit 1.
            #expect(apply.status == 1, "\(apply.stdout)\(apply.stderr)")
            let events = try Fleet.lines(apply.stdout)
            #expect(events.first { $0["event"] == "node" && $0["node"] == "node-00" }?["action"] == "replaced")
            #expect(events.filter { $0["event"] == "rollback" }.map { $0["node"] } == ["node-00"])
            #expect(events.first { $0["event"] == "rollback" }?["action"] == "restored")
            #expect(events.last?["result"] == "rolledBack")

            // Every live node runs the first spec again, with its one link, and
            // node-00's map (kept through both replaces) still counts on.
            let after = try probes(fleet, skipping: [1])
            for index in 0..<Fleet.size where index != 1 {
                let probe = try #require(after[index], "node \(index)")
                #expect(probe["labels"] == ["team": "tests", "bpfleet.io/spec": spec], "node \(index)")
                #expect(probe["links"]?.arrayValue.count == 1, "node \(index)")
                // The nodes the rollout never reached run the very same program.
                if index >= 2 {
                    #expect(probe["programs"]?.arrayValue.first?["id"] == before[index]?["programs"]?.arrayValue.first?["id"], "node \(index)")
                }
            }
            #expect(after[0]?["programs"]?.arrayValue.first?["id"] != before[0]?["programs"]?.arrayValue.first?["id"])
            try Workload.exec(binary.path, times: 2)
            for (index, server) in fleet.servers.enumerated() where index != 1 {
                #expect(try count(server, comm: binary.comm) == 6, "node \(index)")
            }
            let status = try fleet.bpfleet(["status", "-f", first, "-o", "ndjson"])
            #expect(try Fleet.lines(status.stdout).filter { $0["state"] == "in sync" }.count == 19)
            #expect(try fleet.bpfleet(["delete", "-f", first]).status == 2)  // node-01 is unreachable
        }
    }

    @Test func selectorsPickExactlyTheRightNodes() async throws {
        try await withFleet { fleet in
            func picked(_ selector: String) throws -> Set<String> {
                let result = try fleet.bpfleet(["node", "info", "-l", selector, "-o", "json"])
                #expect(result.status == 0, "\(selector): \(result.stderr)")
                let nodes = try JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8)).arrayValue
                #expect(nodes.allSatisfy { $0["ok"] == true })
                return Set(nodes.compactMap { $0["node"]?.stringValue })
            }
            func expected(_ rule: ([String: String]) -> Bool) -> Set<String> {
                Set((0..<Fleet.size).filter { rule(Fleet.labels($0)) }.map(Fleet.name))
            }
            #expect(try picked("role=web") == expected { $0["role"] == "web" })
            #expect(try picked("role=web,zone!=b") == expected { $0["role"] == "web" && $0["zone"] != "b" })
            #expect(try picked("zone in (a, c)") == expected { ["a", "c"].contains($0["zone"]) })
            #expect(try picked("zone notin (a),role==db") == expected { $0["zone"] != "a" && $0["role"] == "db" })
            #expect(try picked("gpu") == expected { $0["gpu"] != nil })
            #expect(try picked("!gpu,role=db") == expected { $0["gpu"] == nil && $0["role"] == "db" })

            let none = try fleet.bpfleet(["node", "info", "-l", "role=cache"])
            #expect(none.status == 64)
            #expect(none.stderr.contains("role=cache"), "\(none.stderr)")
            let broken = try fleet.bpfleet(["node", "info", "-l", "zone in (a"])
            #expect(broken.status == 64)

            // The manifest's selector, unless the command line gives one.
            let path = try fleet.manifest(Self.manifest(nodes: "nodes: {selector: \"zone=b\"}"))
            let dry = try fleet.bpfleet(["apply", "-f", path, "--dry-run", "-o", "ndjson"])
            #expect(dry.status == 0, "\(dry.stderr)")
            let planned = try Fleet.lines(dry.stdout).filter { $0["event"] == "node" }
            #expect(Set(planned.compactMap { $0["node"]?.stringValue }) == expected { $0["zone"] == "b" })
            #expect(planned.allSatisfy { $0["action"] == "created" && $0["drift"] == "missing" })
            let overridden = try fleet.bpfleet(["apply", "-f", path, "--dry-run", "-o", "ndjson", "-l", "gpu"])
            #expect(Set(try Fleet.lines(overridden.stdout).filter { $0["event"] == "node" }.compactMap { $0["node"]?.stringValue })
                == expected { $0["gpu"] != nil })
            // A manifest whose selector does not parse is refused, -l or not.
            let brokenManifest = try fleet.manifest(Self.manifest(nodes: "nodes: {selector: \"zone in (a\"}"), named: "broken.yaml")
            for extra in [[], ["-l", "gpu"]] {
                let refused = try fleet.bpfleet(["apply", "-f", brokenManifest] + extra)
                #expect(refused.status == 64)
                #expect(refused.stderr.contains("broken.yaml:"), "\(refused.stderr)")
                #expect(refused.stderr.contains("nodes.selector"), "\(refused.stderr)")
            }
            // A dry run changes nothing.
            for server in fleet.servers { #expect(try server.client().call("probe.list")["probes"] == []) }
        }
    }

    @Test func aManifestSizesMapsOnEveryNodeAndASizeChangeIsAChangedSpec() async throws {
        try await withFleet(count: 3) { fleet in
            func manifest(_ size: Int) -> String {
                """
                probe: fleet-sized
                object: \(TestEnvironment.programPath("sized_at_load"))
                maps:
                  execs_by_pid: \(size)
                  exec_events: {maxEntries: 0x10000}
                nodes: {selector: zone}
                rollout: {canary: 0, batch: 100%}
                """
            }
            let path = try fleet.manifest(manifest(2048))
            let apply = try fleet.bpfleet(["apply", "-f", path])
            #expect(apply.status == 0, "\(apply.stderr)")
            for server in fleet.servers {
                let probe = try server.client().call("probe.get", ["probe": "fleet-sized"])
                #expect(probe["mapSettings"] == ["execs_by_pid": ["maxEntries": 2048], "exec_events": ["maxEntries": 65536]])
                let map = try #require(probe["maps"]?.arrayValue.first { $0["name"] == "execs_by_pid" })
                let id = try #require(map["id"]?.uint64Value).asUInt32
                let shown = try Bpftool.show("map", id: id)
                #expect(shown?["max_entries"] as? Int == 2048)
            }
            let inSync = try fleet.bpfleet(["status", "-f", path, "-o", "ndjson"])
            #expect(try Fleet.lines(inSync.stdout).map { $0["state"] } == ["in sync", "in sync", "in sync"])

            // Another size is another spec: status says so, apply replaces.
            let resized = try fleet.manifest(manifest(4096))
            let drift = try fleet.bpfleet(["status", "-f", resized, "-o", "ndjson"])
            #expect(try Fleet.lines(drift.stdout).map { $0["state"] } == ["different", "different", "different"])
            #expect(try fleet.bpfleet(["apply", "-f", resized]).status == 0)
            for server in fleet.servers {
                let probe = try server.client().call("probe.get", ["probe": "fleet-sized"])
                #expect(probe["maps"]?.arrayValue.first { $0["name"] == "execs_by_pid" }?["maxEntries"] == 4096)
            }
            #expect(try fleet.bpfleet(["delete", "-f", resized]).status == 0)
            #expect(fleet.servers.allSatisfy { $0.pins().isEmpty })
        }
    }

    @Test func aManifestRollsMetricsOutAndAChangedExportIsDrift() async throws {
        try await withFleet(count: 3) { fleet in
            func manifest(_ name: String) -> String {
                """
                probe: fleet-metrics
                object: \(TestEnvironment.programPath("metrics_export"))
                metrics:
                  - map: decoded
                    name: \(name)
                    help: Levels by syscall.
                    kind: gauge
                    value: level
                    labels: [{name: syscall, field: nr, decoder: syscall}]
                nodes: {selector: zone}
                rollout: {canary: 1, batch: 100%}
                """
            }
            let path = try fleet.manifest(manifest("fleet_level"))
            let apply = try fleet.bpfleet(["apply", "-f", path])
            #expect(apply.status == 0, "\(apply.stderr)")
            for server in fleet.servers {
                let probe = try server.client().call("probe.get", ["probe": "fleet-metrics"])
                #expect(probe["metrics"]?.arrayValue.map { $0["name"] } == ["fleet_level"])
                try server.client().call("map.update", ["map": ["probe": "fleet-metrics", "name": "decoded"], "key": ["nr": 1],
                                                        "value": ["level": 42]])
            }
            // Every node exports it: `bpfleet metrics PROBE` over the fleet.
            let scraped = try fleet.bpfleet(["metrics", "fleet-metrics", "-l", "zone"])
            #expect(scraped.status == 0, "\(scraped.stderr)")
            // Syscall 1 is write on x86_64, io_destroy on aarch64.
            #if arch(arm64)
            let one = "io_destroy"
            #else
            let one = "write"
            #endif
            #expect(scraped.stdout.components(separatedBy: "fleet_level{probe=\"fleet-metrics\",syscall=\"\(one)\"} 42\n").count == 4)
            #expect(try Fleet.lines(try fleet.bpfleet(["status", "-f", path, "-o", "ndjson"]).stdout).map { $0["state"] }
                    == ["in sync", "in sync", "in sync"])

            // Another metric name is another spec: status says so, apply replaces.
            let renamed = try fleet.manifest(manifest("fleet_level_now"), named: "renamed.yaml")
            let drift = try fleet.bpfleet(["status", "-f", renamed, "-o", "ndjson"])
            #expect(try Fleet.lines(drift.stdout).map { $0["state"] } == ["different", "different", "different"])
            #expect(try fleet.bpfleet(["apply", "-f", renamed]).status == 0)
            let after = try fleet.bpfleet(["metrics", "fleet-metrics", "-l", "zone"])
            #expect(!after.stdout.contains("fleet_level{"))
            #expect(after.stdout.components(separatedBy: "# TYPE fleet_level_now gauge\n").count == 4)
            #expect(try fleet.bpfleet(["delete", "-f", renamed]).status == 0)
            #expect(fleet.servers.allSatisfy { $0.pins().isEmpty })
        }
    }

    @Test func statusReportsDriftAndApplyRepairsIt() async throws {
        try await withFleet { fleet in
            let path = try fleet.manifest(Self.manifest(nodes: "nodes: {selector: role}", rollout: "rollout: {canary: 0, batch: 100%, maxFailures: 1}"))
            #expect(try fleet.bpfleet(["apply", "-f", path]).status == 0)

            let inSync = try fleet.bpfleet(["status", "-f", path, "-o", "ndjson"])
            #expect(inSync.status == 0, "\(inSync.stderr)")
            #expect(try Fleet.lines(inSync.stdout).allSatisfy { $0["state"] == "in sync" })

            // By hand: node-07 loses its probe, node-03 its link; node-12 goes down.
            try fleet.servers[7].client().call("probe.unload", ["probe": "fleet-execs"])
            try fleet.servers[3].client().call("probe.detach", ["probe": "fleet-execs", "linkId": 1])
            fleet.servers[12].terminate()

            let drift = try fleet.bpfleet(["status", "-f", path, "-o", "json"])
            #expect(drift.status == 2)
            let rows = try JSONDecoder().decode(JSONValue.self, from: Data(drift.stdout.utf8)).arrayValue
            var states: [String: String] = [:]
            for row in rows { states[row["node"]!.stringValue!] = row["state"]?.stringValue }
            var wanted = Dictionary(uniqueKeysWithValues: (0..<20).map { (Fleet.name($0), "in sync") })
            wanted["node-07"] = "missing"
            wanted["node-03"] = "different"
            wanted["node-12"] = "unreachable"
            #expect(states == wanted)
            #expect(rows.first { $0["node"] == "node-03" }?["detail"] == "1 link missing")

            let table = try fleet.bpfleet(["status", "-f", path])
            #expect(table.stdout.contains("17 of 20 nodes in sync"), "\(table.stdout)")

            // Apply puts back what drifted, leaves the rest, and counts the down node.
            let repair = try fleet.bpfleet(["apply", "-f", path, "-o", "json"])
            #expect(repair.status == 2)
            let summary = try JSONDecoder().decode(JSONValue.self, from: Data(repair.stdout.utf8))["summary"]
            #expect(summary?["created"] == 1)
            #expect(summary?["repaired"] == 1)
            #expect(summary?["unchanged"] == 17)
            #expect(summary?["unreachable"] == 1)
            #expect(summary?["result"] == "complete")
            let links = try fleet.servers[3].client().call("probe.get", ["probe": "fleet-execs"])["links"]?.arrayValue
            #expect(links?.map { $0["linkId"] } == [2])
        }
    }
}

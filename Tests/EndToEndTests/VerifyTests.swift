import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `probe.verify`, the node policy `--refuse-program-types`, `bpfleet
/// verify` and `apply --preflight` against real bpfleetd processes: every
/// verdict exact, and bpftool, the pin root and the state directory show
/// that nothing was left behind.
@Suite(.requiresKernel)
struct VerifyTests {
    /// Every file under the state directory and its size, but the audit
    /// log (a verify is audited).
    static func stateFiles(_ server: ServerProcess) -> [String: Int] {
        var files: [String: Int] = [:]
        for path in FileManager.default.enumerator(atPath: server.stateDirectory)?.allObjects as? [String] ?? [] where path != "audit.log" {
            let size = (try? FileManager.default.attributesOfItem(atPath: server.stateDirectory + "/" + path)[.size] as? Int) ?? -1
            files[path] = size
        }
        return files
    }

    /// Programs and maps with these names that are in the kernel now, were
    /// not in `before`, and are held by a descriptor of one of `servers` or
    /// of a process they started (their loader helpers); waits up to 5 s
    /// for them to go. Other suites load the same objects at the same time,
    /// so only what these servers hold counts; what they pinned is the pin
    /// root's, which each test checks on its own.
    static func newKernelObjects(named names: Set<String>, since before: (prog: Set<UInt32>, map: Set<UInt32>), heldBy servers: [ServerProcess]) throws -> [String] {
        let deadline = Date().addingTimeInterval(5)
        while true {
            let held = BPFDescriptors.ids(heldBy: servers.map(\.pid))
            var found: [String] = []
            for kind in ["prog", "map"] {
                let new = try Bpftool.ids(kind).subtracting(kind == "prog" ? before.prog : before.map)
                for id in new.intersection(kind == "prog" ? held.prog : held.map) {
                    if let name = try Bpftool.show(kind, id: id)?["name"] as? String, names.contains(name) { found.append("\(kind) \(id) \(name)") }
                }
            }
            if found.isEmpty || Date() > deadline { return found }
            usleep(50_000)
        }
    }

    @Test func anAcceptedObjectVerifiesWithTheCountsOfALoadAndLeavesNothing() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("exec_count")
            let before = (prog: try Bpftool.ids("prog"), map: try Bpftool.ids("map"))
            let state = Self.stateFiles(server)
            let descriptors = server.openDescriptors()

            let verified = try client.call("probe.verify", ["objectId": .string(objectId)])
            #expect(verified["kernelRelease"]?.stringValue == Self.release())
            #expect(verified["missingFeatures"] == [:])
            let programs = try #require(verified["programs"]?.arrayValue)
            #expect(programs.count == 1)
            let program = try #require(programs.first)
            #expect(program["name"] == "count_exec")
            #expect(program["section"] == "tracepoint/sched/sched_process_exec")
            #expect(program["type"] == "tracepoint")
            #expect(program["verdict"] == "verified")
            #expect(program["log"] == nil && program["reason"] == nil && program["missingFeature"] == nil)
            let instructions = try #require(program["instructions"]?.int64Value)
            let verifiedInstructions = try #require(program["verifiedInstructions"]?.int64Value)
            #expect(instructions > 0 && verifiedInstructions > 0)

            // Nothing left: no program or map of the object, no pin, no
            // state file, no descriptor.
            #expect(try Self.newKernelObjects(named: ["count_exec", "exec_counts", "verify.bss"], since: before, heldBy: [server]) == [])
            #expect(server.pins().isEmpty)
            #expect(Self.stateFiles(server) == state)
            #expect(server.openDescriptors() == descriptors)
            #expect(try client.call("probe.list")["probes"] == [])

            // The same object loaded by probe.load: bpftool counts the same.
            let probe = try client.call("probe.load", ["name": "counted", "objectId": .string(objectId)])
            let programID = try #require(probe["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
            let shown = try #require(try Bpftool.show("prog", id: programID))
            #expect((shown["bytes_xlated"] as? Int).map { Int64($0 / 8) } == instructions)
            if let kernelVerified = shown["verified_insns"] as? Int { #expect(Int64(kernelVerified) == verifiedInstructions) }
            try client.call("probe.unload", ["probe": "counted"])
            #expect(try Bpftool.isGone("prog", id: programID))
        }
    }

    static func release() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    @Test func aRejectedProgramHasTheVerifiersLog() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("verifier_reject")
            let verified = try client.call("probe.verify", ["objectId": .string(objectId)])
            #expect(verified["kernelRelease"]?.stringValue == Self.release())
            let programs = try #require(verified["programs"]?.arrayValue)
            #expect(programs.map { $0["name"] } == ["out_of_bounds"])
            let program = try #require(programs.first)
            #expect(program["verdict"] == "rejected")
            #expect(program["instructions"] == nil && program["verifiedInstructions"] == nil)
            #expect(program["logTruncated"] == false)
            let log = try #require(program["log"]?.stringValue)
            #expect(log.contains("invalid access to map value, value_size=8 off=64 size=8"))
            #expect(log.contains("processed 7 insns"))
            let reason = try #require(program["reason"]?.stringValue)
            #expect(reason.hasPrefix("the verifier rejected program 'out_of_bounds': invalid access to map value, value_size=8 off=64 size=8"))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func eachProgramOfAMixedObjectGetsItsVerdict() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("verify_mixed")
            let before = (prog: try Bpftool.ids("prog"), map: try Bpftool.ids("map"))
            let verified = try client.call("probe.verify", ["objectId": .string(objectId)])
            let programs = try #require(verified["programs"]?.arrayValue)
            #expect(programs.map { $0["name"] } == ["count_ok", "read_past"])
            #expect(programs.map { $0["verdict"] } == ["verified", "rejected"])
            #expect((programs[0]["instructions"]?.int64Value ?? 0) > 0)
            #expect(programs[1]["log"]?.stringValue?.contains("invalid access to map value, value_size=8 off=64 size=8") == true)
            #expect(programs[1]["reason"]?.stringValue?.hasPrefix("the verifier rejected program 'read_past': ") == true)

            // Only the one asked for.
            let one = try client.call("probe.verify", ["objectId": .string(objectId), "programs": ["count_ok"]])
            #expect(one["programs"]?.arrayValue.map { $0["name"] } == ["count_ok"])
            #expect(one["programs"]?.arrayValue.map { $0["verdict"] } == ["verified"])
            let missing = try client.callError("probe.verify", ["objectId": .string(objectId), "programs": ["nope"]])
            #expect(missing.code == .notFound)
            #expect(missing.data?["field"] == "programs[0]")
            #expect(try Self.newKernelObjects(named: ["count_ok", "read_past", "hits", "verify.bss"], since: before, heldBy: [server]) == [])
            #expect(server.pins().isEmpty)
        }
    }

    @Test func fentryIsUnsupportedNamingTheFeature() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("fentry_count")
            let verified = try client.call("probe.verify", ["objectId": .string(objectId)])
            let program = try #require(verified["programs"]?.arrayValue.first)
            #expect(program["name"] == "count_fentry")
            #expect(program["verdict"] == "unsupported")
            #expect(program["missingFeature"] == "fentry (BPF trampoline)")
            #expect(verified["missingFeatures"]?["fentry (BPF trampoline)"]?.stringValue?.hasPrefix("the kernel refuses fentry/fexit programs") == true)
            guard case .object(let features)? = verified["missingFeatures"] else { throw TestFailure("no missingFeatures") }
            #expect(Array(features.keys) == ["fentry (BPF trampoline)"])
        }
    }

    @Test func aNodePolicyRefusesAProgramTypeInLoadVerifyAndNodeInfo() async throws {
        try await withServer(["--refuse-program-types", "tracepoint,lsm"]) { server in
            let client = try server.client()
            #expect(try client.call("node.info")["refusedProgramTypes"] == ["tracepoint", "lsm"])
            let objectId = try client.upload("exec_count")
            let refused = try client.callError("probe.load", ["name": "execs", "objectId": .string(objectId)])
            #expect(refused.code == .unsupported)
            #expect(refused.data?["feature"] == "program type tracepoint (refused by this node's policy)")
            #expect(refused.message == "program 'count_exec' (section 'tracepoint/sched/sched_process_exec') cannot be loaded on this node: program type tracepoint (refused by this node's policy)")
            let verified = try client.call("probe.verify", ["objectId": .string(objectId)])
            let program = try #require(verified["programs"]?.arrayValue.first)
            #expect(program["verdict"] == "unsupported")
            #expect(program["missingFeature"] == "program type tracepoint (refused by this node's policy)")
            #expect(verified["missingFeatures"] == ["program type tracepoint (refused by this node's policy)": "this node's policy refuses tracepoint programs (bpfleetd --refuse-program-types)"])
            #expect(try client.call("probe.list")["probes"] == [])
            #expect(server.pins().isEmpty)
            // Other types still load.
            try client.load("exec_count_raw", as: "raw")
            try client.call("probe.unload", ["probe": "raw"])
        }
    }

    @Test func verifyIsBoundAsALoadIs() async throws {
        try await withServer { server in
            let client = try server.client()
            // The memory budget, before the kernel allocates anything.
            let huge = try client.upload("huge_array")
            let error = try client.callError("probe.verify", ["objectId": .string(huge)])
            #expect(error.code == .limitExceeded)
            #expect(error.message == "map 'huge' (array, 2147483648 entries, key 4 B, value 8 B) would take 16 GiB (17179869184 bytes) of kernel memory, more than --max-probe-memory 256 MiB (268435456 bytes)")
            // A map the kernel will not create: probe.load's error.
            let bad = try client.upload("bad_map")
            let refused = try client.callError("probe.verify", ["objectId": .string(bad)])
            #expect(refused.code == .kernelError)
            #expect(refused.data?["map"] == "keyless")
            #expect(refused.data?["operation"] == "create map")
            #expect(refused.message == "the kernel could not create map 'keyless': Invalid argument (EINVAL): the kernel refused its type, sizes or flags")
            #expect(try client.callError("probe.verify", ["objectId": .string("sha256:" + String(repeating: "0", count: 64))]).code == .notFound)
            #expect(server.pins().isEmpty)
            #expect(try client.call("probe.list")["probes"] == [])
        }
    }

    @Test func anUnknownProgramTypeIsAUsageError() throws {
        let result = try run(TestEnvironment.bpfleetd, ["--refuse-program-types", "kprobe,nonsense"])
        #expect(result.status == 64)
        #expect(String(decoding: result.stderr, as: UTF8.self).contains("--refuse-program-types: 'nonsense' is not a program type"))
    }

    // MARK: Three nodes, one refusing tracepoint programs

    /// Three nodes, `node-2` refusing tracepoint programs, and `node-3`
    /// in the inventory but down; all labelled `role=web`.
    final class Trio: @unchecked Sendable {
        let servers: [ServerProcess]
        let directory: String
        let inventory: String

        init() throws {
            var servers: [ServerProcess] = []
            do {
                for index in 0..<3 { servers.append(try ServerProcess.start(index == 2 ? ["--refuse-program-types", "tracepoint"] : [])) }
            } catch {
                for server in servers { server.stop() }
                throw error
            }
            self.servers = servers
            directory = try temporaryDirectory("verify-trio")
            inventory = directory + "/inventory.yaml"
            var yaml = "nodes:\n"
            for (index, server) in servers.enumerated() { yaml += "  - {name: node-\(index), address: \"\(server.address)\", labels: {role: web}}\n" }
            yaml += "  - {name: node-3, address: \"unix:\(directory)/down.sock\", labels: {role: web}}\n"
            do {
                try createFile(inventory, contents: Data(yaml.utf8))
            } catch {
                for server in servers { server.stop() }
                throw error
            }
        }

        func stop() {
            for server in servers { server.stop() }
            try? FileManager.default.removeItem(atPath: directory)
        }

        func bpfleet(_ arguments: [String]) throws -> Invocation {
            try TestSupport.bpfleet(["--inventory", inventory, "--retries", "0"] + arguments, environment: CommandEnvironment.isolated(home: directory))
        }
    }

    func withTrio(_ body: (Trio) async throws -> Void) async throws {
        let trio = try Trio()
        defer { trio.stop() }
        try await body(trio)
    }

    @Test func verifyOverNodesGroupsByKernelAndFailsWhenOneRefuses() async throws {
        try await withTrio { trio in
            let object = TestEnvironment.programPath("exec_count")
            let table = try trio.bpfleet(["-l", "role=web", "verify", object])
            #expect(table.status == 2, "\(table.stderr)")
            let release = Self.release()
            let lines = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            let instructions = try #require(try trio.servers[0].client().call("probe.verify", ["objectId": .string(try trio.servers[0].client().upload("exec_count"))])["programs"]?.arrayValue.first?["instructions"]?.int64Value)
            #expect(lines == [
                "KERNEL NODES VERDICT",
                "\(release) node-0,node-1 verified: count_exec (\(instructions) insns)",
                "\(release) node-2 count_exec unsupported: program type tracepoint (refused by this node's policy)",
                "- node-3 unreachable: \(lines.last?.components(separatedBy: "unreachable: ").last ?? "")",
            ])
            #expect(lines.last?.hasPrefix("- node-3 unreachable: ") == true)

            let json = try trio.bpfleet(["-l", "role=web", "verify", object, "-o", "json"])
            #expect(json.status == 2)
            let nodes = try #require(json.json?.arrayValue)
            #expect(nodes.map { $0["node"] } == ["node-0", "node-1", "node-2", "node-3"])
            #expect(nodes.map { $0["ok"] } == [true, true, false, false])
            #expect(nodes[2]["result"]?["programs"]?.arrayValue.first?["verdict"] == "unsupported")
            #expect(nodes[3]["error"]?["kind"] == "unreachable")

            // Nothing left on the nodes: the uploads went again (node-0
            // keeps the object the count above uploaded).
            for (index, server) in trio.servers.enumerated() {
                let client = try server.client()
                #expect(try client.call("object.list")["objects"]?.arrayValue.count == (index == 0 ? 1 : 0))
                #expect(try client.call("probe.list")["probes"] == [])
                #expect(server.pins().isEmpty)
            }
        }
    }

    @Test func preflightRefusesTheRolloutNamingTheNodeAndChangesNothing() async throws {
        try await withTrio { trio in
            let manifest = """
                probe: pf-execs
                object: \(TestEnvironment.programPath("exec_count"))
                nodes: {names: [node-0, node-1, node-2]}
                attach:
                  - program: count_exec
                    target: {type: tracepoint, category: sched, name: sched_process_exec}
                """
            let path = trio.directory + "/probe.yaml"
            try createFile(path, contents: Data(manifest.utf8))
            let before = (prog: try Bpftool.ids("prog"), map: try Bpftool.ids("map"))
            let refused = try trio.bpfleet(["apply", "-f", path, "--preflight"])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("bpfleet: preflight refused the rollout of probe pf-execs: 1 of 3 nodes would fail; no node was changed\n"))
            #expect(refused.stderr.contains("bpfleet: node-2: count_exec unsupported: program type tracepoint (refused by this node's policy)\n"))
            #expect(!refused.stdout.contains("canary"))

            try createFile(path, contents: Data((manifest + "\nrollout: {preflight: true}\n").utf8))
            let again = try trio.bpfleet(["apply", "-f", path, "-o", "ndjson"])
            #expect(again.status == 1)
            #expect(again.stderr.contains("bpfleet: node-2: count_exec unsupported: program type tracepoint (refused by this node's policy)\n"))
            let lines = try again.stdout.split(separator: "\n").map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
            #expect(lines.map { $0["node"] } == ["node-0", "node-1", "node-2"])
            #expect(lines.map { $0["ok"] } == [true, true, false])

            for server in trio.servers {
                let client = try server.client()
                #expect(try client.call("probe.list")["probes"] == [])
                #expect(try client.call("object.list")["objects"] == [])
                #expect(server.pins().isEmpty)
            }
            #expect(try Self.newKernelObjects(named: ["count_exec", "exec_counts", "verify.bss"], since: before, heldBy: trio.servers) == [])
        }
    }
}

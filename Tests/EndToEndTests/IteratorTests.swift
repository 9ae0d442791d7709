import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `iter.read` (task_iter): an iterator run once, its output exact against
/// /proc and bpftool; records typed through BTF; a map's elements; the
/// limit; and each mistake refused with its field.
@Suite(.requiresKernel)
struct IteratorTests {
    func read(_ client: LineClient, _ program: String, _ extra: [String: JSONValue] = [:]) throws -> JSONValue {
        var params: [String: JSONValue] = ["probe": "iters", "program": .string(program)]
        params.merge(extra) { $1 }
        return try client.call("iter.read", .object(params))
    }

    @Test func aTaskIteratorListsTheNodesTasksAsProcSeesThem() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("task_iter", as: "iters")
            // A process of one thread, known by its pid.
            let sleeper = Process()
            sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
            sleeper.arguments = ["600"]
            try sleeper.run()
            // SIGKILL: the test runner's children may inherit SIGTERM blocked.
            defer {
                kill(sleeper.processIdentifier, SIGKILL)
                sleeper.waitUntilExit()
            }
            let pid = sleeper.processIdentifier

            let result = try read(client, "dump_tasks")
            #expect(result["encoding"] == "text")
            #expect(result["truncated"] == false)
            let output = try #require(result["output"]?.stringValue)
            #expect(result["bytes"] == .int(Int64(output.utf8.count)))
            let lines = output.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 2).map(String.init) }
            #expect(lines.filter { $0.first == "\(pid)" } == [["\(pid)", "\(pid)", "sleep"]])
            // This test process and its comm, as /proc has them.
            let comm = try String(contentsOfFile: "/proc/self/comm", encoding: .utf8).trimmingCharacters(in: .newlines)
            #expect(lines.contains(["\(getpid())", "\(getpid())", comm]))

            // The limit cuts the output and says so.
            let cut = try read(client, "dump_tasks", ["limit": 100])
            #expect(cut["bytes"] == 100)
            #expect(cut["truncated"] == true)
            #expect(cut["output"]?.stringValue?.utf8.count == 100)
            #expect(output.hasPrefix(try #require(cut["output"]?.stringValue).prefix(20)))
            try client.call("probe.unload", ["probe": "iters"])
            #expect(server.pins() == [])
        }
    }

    @Test func recordsReadTyped() async throws {
        try await withServer { server in
            let client = try server.client()
            let probe = try client.load("task_iter", as: "iters")
            let result = try read(client, "dump_maps", ["recordType": "struct map_record"])
            let records = try #require(result["records"]?.arrayValue)
            #expect(result["bytes"] == .int(Int64(records.count * 24)))
            // The probe's own maps are among the kernel's, as bpftool shows them.
            for map in probe["maps"]?.arrayValue ?? [] {
                let id = try #require(map["id"]?.uint64Value)
                let record = try #require(records.first { $0["id"]?.uint64Value == id })
                let shown = try #require(try Bpftool.show("map", id: UInt32(id)))
                #expect(record["max_entries"]?.uint64Value == (shown["max_entries"] as? NSNumber)?.uint64Value)
                #expect(record["name"]?.stringValue == shown["name"] as? String)
            }

            try client.call("probe.unload", ["probe": "iters"])
            #expect(server.pins() == [])
        }
    }

    @Test func aMapsElementsReadWithTheMap() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("map_elem_iter")
            let loaded = try client.request("probe.load", ["name": "elems", "objectId": .string(objectId)])
            if let refusal = loaded["error"], refusal["data"]?["errnoName"] == "EPERM" {
                #expect(refusal["message"] == "the kernel refused program 'dump_elements' (section 'iter/bpf_map_elem') before verifying it: Operation not permitted (EPERM): this kernel does not allow this program type or attach point")
                // bpftool (the witness) is refused the same: `bpftool prog load` of it fails with EPERM.
                print("skipped: this kernel refuses iter/bpf_map_elem programs (EPERM at load): \(refusal["message"]?.stringValue ?? "")")
                #expect(server.pins() == [])
                return
            }
            #expect(loaded["error"] == nil)
            let seeded: JSONValue = ["probe": "elems", "name": "iter_seeded"]
            for (key, value) in [(1, 10), (2, 20), (7, 70)] {
                try client.call("map.update", ["map": seeded, "key": .int(Int64(key)), "value": .int(Int64(value))])
            }
            let elements = try client.call("iter.read", ["probe": "elems", "program": "dump_elements", "map": seeded])
            let pairs = Set((elements["output"]?.stringValue ?? "").split(separator: "\n").map(String.init))
            #expect(pairs == ["1 10", "2 20", "7 70"])
            let text = try bpfleet(["-n", server.address, "iter", "read", "elems", "dump_elements", "--map", "iter_seeded"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(Set(text.stdout.split(separator: "\n").map(String.init)) == pairs)
            let noMap = try client.callError("iter.read", ["probe": "elems", "program": "dump_elements"])
            #expect(noMap.code == .invalidParams)
            #expect(noMap.data?["field"] == "map")
            #expect(noMap.message.hasSuffix("an iterator over one map's elements needs map"))
            try client.call("probe.unload", ["probe": "elems"])
            #expect(server.pins() == [])
        }
    }

    @Test func mistakesAreRefusedNamingTheField() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("task_iter", as: "iters")
            try client.load("exec_count", as: "execs")

            let notIterator = try client.callError("iter.read", ["probe": "execs", "program": "count_exec"])
            #expect(notIterator.code == .invalidParams)
            #expect(notIterator.message == "program 'count_exec' (section 'tracepoint/sched/sched_process_exec') is not an iterator: iter.read runs iter/... programs")
            #expect(notIterator.data?["field"] == "program")

            for limit in [0, 64 << 20 + 1] {
                let bad = try client.callError("iter.read", ["probe": "iters", "program": "dump_tasks", "limit": .int(Int64(limit))])
                #expect(bad.code == .invalidParams)
                #expect(bad.message == "limit: 1 to 67108864 bytes")
            }
            let noType = try client.callError("iter.read", ["probe": "iters", "program": "dump_maps", "recordType": "struct nope"])
            #expect(noType.message == "recordType: the object has no BTF type 'struct nope' (the object's struct types: struct map_record)")
            #expect(try client.callError("iter.read", ["probe": "nope", "program": "dump_tasks"]).code == .notFound)
            #expect(try client.callError("iter.read", ["probe": "iters", "program": "nope"]).code == .notFound)

            let attach = try client.callError("probe.attach", ["probe": "iters", "program": "dump_tasks", "target": ["type": "auto"]])
            #expect(attach.code == .invalidParams)
            #expect(attach.message == "program 'dump_tasks' is an iterator (section 'iter/task'): it attaches to nothing; run it with iter.read (bpfleet iter read PROBE dump_tasks)")
            // Nothing of the runs is left: no link in the kernel names the iterators' programs.
            let programs = try client.call("probe.get", ["probe": "iters"])["programs"]?.arrayValue ?? []
            let ids = Set(programs.compactMap { $0["id"]?.uint64Value })
            let links = try run(Bpftool.path, ["-j", "link", "show"])
            let shown = (try JSONSerialization.jsonObject(with: links.stdout) as? [[String: Any]]) ?? []
            let ours = shown.filter { link in ids.contains((link["prog_id"] as? NSNumber)?.uint64Value ?? 0) }
            #expect(ours.isEmpty)
        }
    }

    @Test func theCommandLinePrintsTheOutputAndRecords() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("task_iter", as: "iters")
            let text = try bpfleet(["-n", server.address, "iter", "read", "iters", "dump_tasks"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.split(separator: "\n").contains("\(getpid()) \(getpid()) \(try String(contentsOfFile: "/proc/self/comm", encoding: .utf8).trimmingCharacters(in: .newlines))"))
            let records = try bpfleet(["-n", server.address, "iter", "read", "iters", "dump_maps", "--record-type", "struct map_record"])
            #expect(records.status == 0, "\(records.stderr)")
            let lines = records.stdout.split(separator: "\n")
            #expect(!lines.isEmpty)
            #expect(lines.allSatisfy { (try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)))?["id"] != nil })
            let cut = try bpfleet(["-n", server.address, "iter", "read", "iters", "dump_tasks", "--limit", "10"])
            #expect(cut.status == 0)
            #expect(cut.stdout.utf8.count <= 11)
            #expect(cut.stderr.contains("output truncated at 10 bytes (--limit reads more)"))
            try client.call("probe.unload", ["probe": "iters"])
        }
    }
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `--max-probe-memory`: an object whose maps would take more kernel memory
/// than the limit is refused before the kernel allocates anything, and the
/// server goes on serving.
@Suite(.requiresKernel)
struct ProbeMemoryTests {
    /// Ids of the kernel's maps named `name` (bpftool is the witness; other
    /// processes on the machine make maps of their own meanwhile).
    func mapIDs(named name: String) throws -> Set<UInt32> {
        let result = try run(Bpftool.path, ["-j", "map", "show"])
        guard result.status == 0, let maps = try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] else {
            throw TestFailure("bpftool map show failed")
        }
        return Set(maps.filter { $0["name"] as? String == name }.compactMap { ($0["id"] as? NSNumber)?.uint32Value })
    }

    /// The kernel's possible CPUs (`0-3`, `0,2-5`).
    func possibleCPUs() throws -> Int {
        let text = try String(contentsOfFile: "/sys/devices/system/cpu/possible", encoding: .utf8)
        return try text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").reduce(0) { count, range in
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            guard let low = bounds.first, let high = bounds.last else { throw TestFailure("possible CPUs: \(text)") }
            return count + high - low + 1
        }
    }

    func load(_ client: LineClient, _ program: String, as name: String, _ extra: [String: JSONValue] = [:]) throws -> ResponseError {
        let objectId = try client.upload(program)
        var params: [String: JSONValue] = ["name": .string(name), "objectId": .string(objectId)]
        params.merge(extra) { $1 }
        return try client.callError("probe.load", .object(params))
    }

    @Test func anArrayOfTwoToTheThirtyFirstEntriesIsRefusedAndNothingIsLeft() async throws {
        try await withServer { server in
            let client = try server.client()
            let before = try mapIDs(named: "huge")
            let startedAt = try client.call("node.info")["startedAt"]
            #expect(startedAt != nil)
            let error = try load(client, "huge_array", as: "huge")
            #expect(error.code == .limitExceeded)
            #expect(error.message == "map 'huge' (array, 2147483648 entries, key 4 B, value 8 B) would take 16 GiB (17179869184 bytes) of kernel memory, more than --max-probe-memory 256 MiB (268435456 bytes)")
            #expect(error.data == ["limit": "maxProbeMemory", "value": 268_435_456, "map": "huge", "type": "array",
                                   "maxEntries": 2_147_483_648, "keySize": 4, "valueSize": 8, "bytes": 17_179_869_184])
            // The server answers at once, and the kernel made nothing.
            #expect(try client.call("node.info")["startedAt"] == startedAt)
            #expect(try mapIDs(named: "huge") == before)
            #expect(server.pins() == [])
            #expect(try client.call("probe.list")["probes"] == [])
            #expect(try client.callError("probe.get", ["probe": "huge"]).code == .notFound)
        }
    }

    @Test func mapsThatFitAloneButNotTogetherAreRefusedAsATotal() async throws {
        // syscall_count: `syscalls` (a hash of 1024 entries, 82,048 bytes),
        // `total` (a per-CPU array) and `.rodata` (a page).
        try await withServer(["--max-probe-memory", "84000"]) { server in
            let client = try server.client()
            let error = try load(client, "syscall_count", as: "syscalls")
            #expect(error.code == .limitExceeded)
            #expect(error.message.hasPrefix("the object's 3 maps would take "))
            #expect(error.message.contains(" of kernel memory in total, more than --max-probe-memory 82 KiB (84000 bytes); the largest: 'syscalls' (hash, 1024 entries) 80.1 KiB (82048 bytes), "))
            #expect(error.data?["total"] == true)
            #expect(error.data?["limit"] == "maxProbeMemory")
            #expect(error.data?["value"] == 84000)
            #expect(error.data?["maps"]?.arrayValue.first == ["map": "syscalls", "type": "hash", "bytes": 82048])
            #expect(server.pins() == [])
        }
    }

    @Test func theLimitIsAFlag() async throws {
        try await withServer(["--max-probe-memory", "1M"]) { server in
            let client = try server.client()
            let error = try load(client, "big_hash", as: "big")
            #expect(error.code == .limitExceeded)
            // 2^20 buckets of 16 bytes, 2^20 elements of 64 and a spare one per possible CPU.
            let bytes = 16 << 20 + ((1 << 20) + Int64(try possibleCPUs())) * 64
            #expect(error.data == ["limit": "maxProbeMemory", "value": 1_048_576, "map": "big", "type": "hash",
                                   "maxEntries": 1_048_576, "keySize": 4, "valueSize": 8, "bytes": .int(bytes)])
            #expect(error.message.hasPrefix("map 'big' (hash, 1048576 entries, key 4 B, value 8 B) would take 80 MiB (\(bytes) bytes) of kernel memory"))
            #expect(error.message.hasSuffix("more than --max-probe-memory 1 MiB (1048576 bytes)"))
        }
        try await withServer(["--max-probe-memory", "1G"]) { server in
            let client = try server.client()
            // 16 GiB is still too much...
            #expect(try load(client, "huge_array", as: "huge").code == .limitExceeded)
            // ...and every example loads.
            let examples = ["exec_count", "syscall_count", "exec_users", "execsnoop", "event_flood", "event_rate", "big_hash",
                            "xdp_count", "tc_count", "cgroup_count", "perf_count", "uprobe_count", "usdt_count"]
            for program in examples {
                let probe = try client.load(program, as: program)
                #expect(probe["name"] == .string(program))
            }
            #expect(try client.call("probe.list")["probes"]?.arrayValue.count == examples.count)
        }
    }

    @Test func aReplaceDoesNotCountTheMapsItKeeps() async throws {
        // big_hash's map (about 80 MiB) loaded under the default limit, then
        // a server with a 1 MiB limit adopts it.
        let first = try ServerProcess.start()
        defer { first.stop() }
        let client = try first.client()
        try client.load("big_hash", as: "big")
        first.terminate()
        let server = try ServerProcess.start(["--max-probe-memory", "1M"], directory: first.directory, pinRoot: first.pinRoot)
        defer { server.stop() }
        let adopted = try server.client()
        #expect(try adopted.call("probe.get", ["probe": "big"])["origin"] == "adopted")
        let objectId = try adopted.upload("big_hash")
        // Kept, the map exists already: nothing new to allocate.
        let kept = try adopted.call("probe.load", ["name": "big", "objectId": .string(objectId), "replace": true, "keepMaps": ["big"]])
        #expect(kept["name"] == "big")
        // Not kept, a new one would be made: refused, and the probe stays as it was.
        let refused = try adopted.callError("probe.load", ["name": "big", "objectId": .string(objectId), "replace": true])
        #expect(refused.code == .limitExceeded)
        #expect(refused.data?["map"] == "big")
        #expect(try adopted.call("probe.get", ["probe": "big"])["maps"] == kept["maps"])
    }
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Real bpfleetd, real programs, real kernel: load, attach, fire an exact
/// number of times, read the counts back, unload, and let bpftool confirm.
@Suite(.requiresKernel)
struct ProbeLifecycleTests {
    @Test func execCounterCountsEveryExecAndUnloadLeavesNothing() async throws {
        try await withServer { server in
            let client = try server.client()
            let probe = try client.load("exec_count", as: "execs")
            let programID = try #require(probe["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
            let mapIDs = probe["maps"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 }
            #expect(mapIDs.count == 2)  // exec_counts and .bss
            #expect(try Bpftool.show("prog", id: programID)?["name"] as? String == "count_exec")
            for id in mapIDs { #expect(try Bpftool.exists("map", id: id)) }

            let link = try client.call("probe.attach", [
                "probe": "execs", "program": "count_exec",
                "target": ["type": "tracepoint", "category": "sched", "name": "sched_process_exec"],
            ])
            let linkID = try #require(link["id"]?.uint64Value).asUInt32
            #expect(link["linkId"] == 1)
            #expect(try Bpftool.show("link", id: linkID)?["prog_id"] as? Int == Int(programID))

            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 25)

            let key: JSONValue = ["comm": .string(binary.comm)]
            let entry = try client.call("map.lookup", ["map": ["probe": "execs", "name": "exec_counts"], "key": key])
            #expect(entry["value"] == 25)
            let entries = try client.snapshot("execs", "exec_counts")
            #expect(entries.filter { $0["key"] == key }.map { $0["value"] } == [25])
            // The same map through its kernel id.
            let byID = try client.call("map.lookup", ["map": ["id": .uint(UInt64(mapIDs[0]))], "key": key])
            #expect(byID["value"] == 25)

            let described = try client.call("probe.get", ["probe": "execs"])
            let runCount = try #require(described["programs"]?.arrayValue.first?["runCount"]?.uint64Value)
            #expect(runCount >= 25)
            #expect(described["links"]?.arrayValue.count == 1)
            #expect(server.pins() == ["execs", "execs/links", "execs/links/1", "execs/maps", "execs/maps/_bss", "execs/maps/exec_counts",
                                      "execs/programs", "execs/programs/count_exec"])

            try client.call("probe.unload", ["probe": "execs"])
            #expect(try Bpftool.isGone("prog", id: programID))
            #expect(try Bpftool.isGone("link", id: linkID))
            for id in mapIDs { #expect(try Bpftool.isGone("map", id: id)) }
            #expect(server.pins().isEmpty)
            #expect(try client.call("probe.list")["probes"] == [])
        }
    }

    @Test func rawTracepointCountsOneProcessThroughAConstGlobal() async throws {
        try await withServer { server in
            let client = try server.client()
            let me = getpid()
            try client.load("syscall_count", as: "sys", globals: ["target_tgid": .int(Int64(me))])
            let link = try client.call("probe.attach", [
                "probe": "sys", "program": "count_syscall", "target": ["type": "raw_tracepoint", "name": "sys_enter"],
            ])
            for _ in 0..<1000 { _ = getppid() }
            try client.call("probe.detach", ["probe": "sys", "linkId": link["linkId"]!])
            #expect(try Bpftool.isGone("link", id: link["id"]!.uint64Value!.asUInt32))

            let counts = try client.snapshot("sys", "syscalls")
            #if arch(arm64)
            let getppidNumber: Int64 = 173
            #else
            let getppidNumber: Int64 = 110  // x86_64
            #endif
            let getppidCount = counts.first { $0["key"] == .int(getppidNumber) }?["value"]
            #expect(getppidCount == 1000)

            // The per-CPU total: one value per possible CPU, adding up to
            // every syscall counted by number.
            let total = try client.snapshot("sys", "total")
            #expect(total.count == 1)
            let perCPU = total.first?["value"]?.arrayValue ?? []
            #expect(perCPU.count == possibleCPUs())
            let sumPerCPU = perCPU.compactMap(\.uint64Value).reduce(0, +)
            let sumByNumber = counts.compactMap { $0["value"]?.uint64Value }.reduce(0, +)
            #expect(sumPerCPU == sumByNumber)
            #expect(sumPerCPU >= 1000)

            // The const global was written before load and reads back.
            #expect(try client.snapshot("sys", ".rodata").first?["value"] == ["target_tgid": .int(Int64(me))])
        }
    }

    @Test func structValuesWithCharArraysDecodeAndEncode() async throws {
        try await withServer { server in
            let client = try server.client()
            let uid = Int64.random(in: 60000...65000)
            try client.load("exec_users", as: "users", globals: ["min_uid": .int(uid), "records_written": 100])
            try client.call("probe.attach", ["probe": "users", "program": "record_exec", "target": ["type": "auto"]])
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            let lastPID = try Workload.exec("/usr/bin/setpriv", times: 3,
                                            arguments: ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", binary.path])
            let record = try client.call("map.lookup", ["map": ["probe": "users", "name": "last_exec"], "key": .int(uid)])
            #expect(record["value"]?["comm"] == .string(binary.comm))
            #expect(record["value"]?["count"] == 3)
            #expect(record["value"]?["pid"] == .int(Int64(lastPID)))
            #expect(record["value"]?["ppid"] == .int(Int64(getpid())))
            #expect(record["value"]?["kind"] == "EXEC_BY_USER")
            #expect(record["value"]?["delta_ns"] == -1)
            #expect(record["value"]?["cpu_hint"]?.arrayValue.count == 2)
            // .data started at the global given at load.
            #expect(try client.snapshot("users", ".data").first?["value"] == ["records_written": 103])

            // Typed update and read back, extremes included.
            let value: JSONValue = [
                "comm": "written-by-rpc", "pid": 4294967295, "ppid": .int(Int64(Int32.min)), "count": .uint(UInt64.max),
                "kind": "EXEC_BY_ROOT", "cpu_hint": [65535, 0], "delta_ns": .int(Int64.min),
            ]
            try client.call("map.update", ["map": ["probe": "users", "name": "last_exec"], "key": 7, "value": value])
            let back = try client.call("map.lookup", ["map": ["probe": "users", "name": "last_exec"], "key": 7])
            #expect(back["value"] == value)
            // The same entry in hex: bpftool agrees on the bytes.
            let hex = try client.call("map.lookup", ["map": ["probe": "users", "name": "last_exec"], "key": "07000000", "format": "hex"])
            let mapID = try #require(try client.call("map.list", ["probe": "users"])["maps"]?.arrayValue
                .first { $0["name"] == "last_exec" }?["id"]?.uint64Value).asUInt32
            let dumped = try Bpftool.dump(mapID: mapID).first { ($0["key"] as? [String])?.joined() == "0x070x000x000x00" }
            let bpftoolHex = (dumped?["value"] as? [String])?.map { $0.dropFirst(2) }.joined()
            #expect(hex["value"]?.stringValue == bpftoolHex)

            try client.call("map.delete", ["map": ["probe": "users", "name": "last_exec"], "key": 7])
            let gone = try client.callError("map.lookup", ["map": ["probe": "users", "name": "last_exec"], "key": 7])
            #expect(gone.code == .notFound)
        }
    }

    @Test func verifierRejectionReturnsTheWholeLogAndLoadsNothing() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("verifier_reject")
            let descriptors = server.openDescriptors()
            let error = try client.callError("probe.load", ["name": "bad", "objectId": .string(objectId)])
            #expect(error.code == .verifierRejected)
            #expect(error.data?["program"] == "out_of_bounds")
            #expect(error.data?["errnoName"] == "EACCES")
            let log = error.data?["log"]?.stringValue ?? ""
            #expect(log.contains("invalid access to map value, value_size=8 off=64 size=8"))
            #expect(log.contains("processed"))
            #expect(try client.call("probe.list")["probes"] == [])
            #expect(server.pins().isEmpty)
            #expect(server.openDescriptors() == descriptors)
        }
    }

    @Test func objectsAreDescribedWithoutLoadingAndStoredByContent() async throws {
        try await withServer { server in
            let client = try server.client()
            let data = try TestEnvironment.program("exec_users")
            let first = try client.call("object.upload", ["data": .string(data.base64EncodedString()), "name": "users"])
            let again = try client.call("object.upload", ["data": .string(data.base64EncodedString())])
            #expect(first["objectId"] == again["objectId"])
            let digest = try sha256Hex(data)
            #expect(first["objectId"]?.stringValue == "sha256:" + digest)
            #expect(first["programs"] == [["name": "record_exec", "section": "tracepoint/sched/sched_process_exec", "type": "tracepoint", "instructions": first["programs"]!.arrayValue[0]["instructions"]!]])
            let maps = first["maps"]?.arrayValue ?? []
            #expect(maps.first { $0["name"] == "last_exec" } == [
                "name": "last_exec", "type": "hash", "keySize": 4, "valueSize": 48, "maxEntries": 4096,
                "keyType": "__u32", "valueType": "struct exec_record",
            ])
            let globals = first["globals"]?.arrayValue.compactMap { $0["name"]?.stringValue }.sorted()
            #expect(globals == ["min_uid", "records_written"])
            #expect(try client.call("object.list")["objects"]?.arrayValue.count == 1)
            let objectFile = server.stateDirectory + "/objects/" + String(first["objectId"]!.stringValue!.dropFirst(7)) + ".o"
            #expect(FileManager.default.contents(atPath: objectFile) == data)

            try client.call("probe.load", ["name": "p", "objectId": first["objectId"]!])
            let refused = try client.callError("object.delete", ["objectId": first["objectId"]!])
            #expect(refused.code == .conflict)
            #expect(refused.data?["probes"] == ["p"])
            try client.call("probe.unload", ["probe": "p"])
            try client.call("object.delete", ["objectId": first["objectId"]!])
            #expect(try client.call("object.list")["objects"] == [])
            #expect(!FileManager.default.fileExists(atPath: objectFile))
        }
    }
}

func possibleCPUs() -> Int {
    // "0-1" or "0,2-3": the kernel's list of possible CPUs.
    let text = (try? String(contentsOfFile: "/sys/devices/system/cpu/possible", encoding: .utf8)) ?? "0"
    return text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").reduce(0) { count, range in
        let bounds = range.split(separator: "-").compactMap { Int($0) }
        return count + (bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 1)
    }
}

extension UInt64 {
    var asUInt32: UInt32 { UInt32(truncatingIfNeeded: self) }
}

/// bpfleetd stops on SIGTERM even with clients connected, and what it
/// loaded keeps running in the kernel, pinned (docs/state-and-pins.md).
@Suite(.requiresKernel)
struct ShutdownTests {
    @Test func sigtermWithIdleClientsStopsTheServerAndKeepsProbesRunning() async throws {
        let server = try ServerProcess.start()
        defer { server.stop() }
        let client = try server.client()
        try client.load("exec_count", as: "execs")
        let link = try client.call("probe.attach", ["probe": "execs", "program": "count_exec", "target": ["type": "auto"]])
        let linkID = try #require(link["id"]?.uint64Value).asUInt32
        let idle = try server.client()  // connected, never sends

        let started = Date()
        kill(server.pid, SIGTERM)
        while server.process.isRunning, Date().timeIntervalSince(started) < 10 { usleep(20_000) }
        #expect(!server.process.isRunning)
        #expect(server.process.terminationReason == .exit)
        #expect(server.process.terminationStatus == 0, "\(server.log)")
        #expect(!FileManager.default.fileExists(atPath: server.socketPath))
        #expect(try idle.readLine(timeout: 5) == nil)  // the connection was closed

        // The link and its program outlive the server, and still count.
        #expect(try Bpftool.exists("link", id: linkID))
        let binary = try Workload.uniqueBinary()
        defer { binary.cleanup() }
        try Workload.exec(binary.path, times: 3)
        let mapPin = server.pinRoot + "/execs/maps/exec_counts"
        let dump = try run(Bpftool.path, ["-j", "map", "dump", "pinned", mapPin])
        let entries = try JSONSerialization.jsonObject(with: dump.stdout) as? [[String: Any]] ?? []
        let ours = entries.first { (($0["formatted"] as? [String: Any])?["key"] as? [String: Any])?["comm"] as? String == binary.comm }
        #expect((ours?["formatted"] as? [String: Any])?["value"] as? Int == 3)

        // Removing the pins is what frees them.
        server.removePins()
        #expect(try Bpftool.isGone("link", id: linkID))
    }
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `probe.load`'s `maps`: an object written the way libbpf-tools write
/// theirs (sized_at_load: maps of max_entries 0, a value size left to the
/// loader, a map that asks to be pinned by name) loads through bpfleetd,
/// counts exactly, keeps its sizes across a kill -9 and a pin wipe, and
/// every sizing mistake is refused before the kernel makes anything.
@Suite(.requiresKernel)
struct MapSettingsTests {
    static let program = "sized_at_load"
    static let sizes: JSONValue = [
        "execs_by_pid": ["maxEntries": 4096],
        "exec_events": ["maxEntries": 65536],
        "raw_values": ["valueSize": 16, "numaNode": 0],
    ]

    /// Ids of the kernel's maps named as sized_at_load_unique's are (no
    /// other test loads that object; bpftool is the witness).
    func uniqueFixtureMaps() throws -> Set<UInt32> {
        let result = try run(Bpftool.path, ["-j", "map", "show"])
        guard result.status == 0, let maps = try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] else {
            throw TestFailure("bpftool map show failed")
        }
        let names: Set<String> = ["execs_by_pid_u", "exec_events_u", "raw_values_u", "sized_total_u"]
        return Set(maps.filter { names.contains($0["name"] as? String ?? "") }.compactMap { ($0["id"] as? NSNumber)?.uint32Value })
    }

    func load(_ client: LineClient, objectId: String, maps: JSONValue?, extra: [String: JSONValue] = [:]) throws -> ResponseError {
        var params: [String: JSONValue] = ["name": "sized", "objectId": .string(objectId)]
        if let maps { params["maps"] = maps }
        params.merge(extra) { $1 }
        return try client.callError("probe.load", .object(params))
    }

    @Test func aMapLeftUnsizedIsRefusedBeforeTheKernelMakesAnything() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("sized_at_load_unique")
            let before = try uniqueFixtureMaps()
            let error = try load(client, objectId: objectId, maps: nil)
            #expect(error.code == .invalidParams)
            #expect(error.message == "maps.execs_by_pid_u.maxEntries: map 'execs_by_pid_u' (hash) is declared with max_entries 0: its size is left to the loader; set maps.execs_by_pid_u.maxEntries (--map-size execs_by_pid_u=N); also left unsized: exec_events_u")
            #expect(error.data == ["field": "maps.execs_by_pid_u.maxEntries", "map": "execs_by_pid_u", "unsized": ["execs_by_pid_u", "exec_events_u"]])
            // One sized, the other not: the other is named.
            let half = try load(client, objectId: objectId, maps: ["execs_by_pid_u": ["maxEntries": 16]])
            #expect(half.data == ["field": "maps.exec_events_u.maxEntries", "map": "exec_events_u", "unsized": ["exec_events_u"]])
            #expect(half.message.hasPrefix("maps.exec_events_u.maxEntries: map 'exec_events_u' (ringbuf) is declared with max_entries 0"))
            #expect(try uniqueFixtureMaps() == before)
            #expect(server.pins() == [])
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/bpf/sized_total_u"))
            #expect(try client.call("probe.list")["probes"] == [])
        }
    }

    static let mistakes: [(JSONValue, String, String)] = [
        (["nope": ["maxEntries": 1]], "maps.nope",
         "maps.nope: the object has no map 'nope' (maps: execs_by_pid, sized_total, exec_events, raw_values, .rodata)"),
        (["execs_by_pid": [:]], "maps.execs_by_pid", "maps.execs_by_pid: set maxEntries, valueSize, numaNode or pinning, or leave the map out"),
        (["execs_by_pid": ["maxEntries": 0]], "maps.execs_by_pid.maxEntries", "maps.execs_by_pid.maxEntries must be at least 1"),
        (["exec_events": ["maxEntries": 5000]], "maps.exec_events.maxEntries",
         "maps.exec_events.maxEntries: map 'exec_events' is a ringbuf: its size in bytes must be a power of two and a multiple of the page size, 4096 (the next that is: 8192)"),
        (["execs_by_pid": ["valueSize": 16]], "maps.execs_by_pid.valueSize",
         "maps.execs_by_pid.valueSize: map 'execs_by_pid' has the value type '__u64' (8 bytes) in BTF: its size is the type's"),
        (["exec_events": ["valueSize": 16]], "maps.exec_events.valueSize",
         "maps.exec_events.valueSize: map 'exec_events' is a ringbuf: its value size is set by its type"),
        ([".rodata": ["maxEntries": 2]], "maps..rodata",
         "maps..rodata: '.rodata' holds the object's global variables: its size is theirs (set them through globals)"),
        (["raw_values": ["numaNode": 1000]], "maps.raw_values.numaNode",
         "maps.raw_values.numaNode: NUMA node 1000 is not online on this node (online: 0)"),
    ]

    @Test(arguments: Self.mistakes)
    func eachSizingMistakeIsRefusedWithItsField(maps: JSONValue, field: String, message: String) async throws {
        guard message.hasSuffix("(online: 0)") == false || (try? String(contentsOfFile: "/sys/devices/system/node/online", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "0" == "0" else {
            print("skipped: this machine has more NUMA nodes than node 0; the message lists them")
            return
        }
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload(Self.program)
            var sized: [String: JSONValue] = ["execs_by_pid": ["maxEntries": 16], "exec_events": ["maxEntries": 4096]]
            if case .object(let fields) = maps { sized.merge(fields) { $1 } }
            let error = try load(client, objectId: objectId, maps: .object(sized))
            #expect(error.code == .invalidParams)
            #expect(error.message == message)
            #expect(error.data?["field"] == .string(field))
            #expect(server.pins() == [])
        }
    }

    /// The sizes, as the kernel has them (bpftool the witness).
    func checkKernelSizes(of probe: JSONValue) throws {
        var ids: [String: UInt32] = [:]
        for map in probe["maps"]?.arrayValue ?? [] {
            if let name = map["name"]?.stringValue, let id = map["id"]?.uint64Value { ids[name] = UInt32(id) }
        }
        func shown(_ name: String) throws -> [String: Any] {
            guard let id = ids[name], let map = try Bpftool.show("map", id: id) else { throw TestFailure("map \(name) is not in the kernel") }
            return map
        }
        let byPid = try shown("execs_by_pid")
        let events = try shown("exec_events")
        let raw = try shown("raw_values")
        #expect(byPid["max_entries"] as? Int == 4096)
        #expect(events["max_entries"] as? Int == 65536)
        #expect(raw["bytes_value"] as? Int == 16)
        #expect(raw["flags"] as? Int == 4)  // BPF_F_NUMA_NODE
    }

    @Test func sizedAtLoadItCountsExactlyAndKeepsItsSizesAcrossAKillAndAPinWipe() async throws {
        try await withServer { server in
            var client = try server.client()
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            let objectId = try client.upload(Self.program)
            let loaded = try client.call("probe.load", [
                "name": "sized", "objectId": .string(objectId), "maps": Self.sizes,
                "globals": ["target_comm": .string(binary.comm)],
                "attach": [["program": "count_exec_by_pid", "target": ["type": "tracepoint", "category": "sched", "name": "sched_process_exec"]]],
            ])
            #expect(loaded["mapSettings"] == Self.sizes)

            try checkKernelSizes(of: loaded)

            // The map the object asks libbpf to pin by name is pinned in the
            // probe's directory, not at /sys/fs/bpf/sized_total.
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/bpf/sized_total"))
            #expect(server.pins().contains("sized/maps/sized_total"))

            var pids: Set<Int64> = []
            for _ in 0..<5 { pids.insert(Int64(try Workload.exec(binary.path, times: 1))) }
            func counts() throws -> [Int64: UInt64] {
                let snapshot = try client.call("map.snapshot", ["map": ["probe": "sized", "name": "execs_by_pid"]])
                var counts: [Int64: UInt64] = [:]
                for entry in snapshot["entries"]?.arrayValue ?? [] {
                    guard let key = entry["key"]?.int64Value, let value = entry["value"]?.uint64Value else { throw TestFailure("entry \(entry)") }
                    counts[key] = value
                }
                return counts
            }
            var once: [Int64: UInt64] = [:]
            for pid in pids { once[pid] = 1 }
            #expect(try counts() == once)
            #expect(try client.call("map.lookup", ["map": ["probe": "sized", "name": "sized_total"], "key": 0])["value"] == 5)

            // As a crash then a reboot would: killed, pins gone.
            server.terminate(signal: SIGKILL)
            server.removePins()
            try server.restart()
            client = try server.client()
            let restored = try client.call("probe.get", ["probe": "sized"])
            #expect(restored["origin"] == "restored")
            #expect(restored["state"] == "running")
            #expect(restored["mapSettings"] == Self.sizes)
            try checkKernelSizes(of: restored)
            #expect(try counts() == [:])
            try Workload.exec(binary.path, times: 3)
            #expect(try counts().count == 3)
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/bpf/sized_total"))

            // And a kill -9 with the pins in place: adopted, same sizes.
            server.terminate(signal: SIGKILL)
            try server.restart()
            client = try server.client()
            let adopted = try client.call("probe.get", ["probe": "sized"])
            #expect(adopted["origin"] == "adopted")
            #expect(adopted["mapSettings"] == Self.sizes)
            #expect(try counts().count == 3)

            let ids = (adopted["maps"]?.arrayValue ?? []).compactMap { $0["id"]?.uint64Value }.map { UInt32(truncatingIfNeeded: $0) }
            try client.call("probe.unload", ["probe": "sized"])
            for id in ids { #expect(try Bpftool.isGone("map", id: id)) }
            #expect(server.pins() == [])
        }
    }

    @Test func aKeptMapKeepsItsSize() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload(Self.program)
            let first = try client.call("probe.load", ["name": "sized", "objectId": .string(objectId), "maps": Self.sizes])
            let keptID = first["maps"]?.arrayValue.first { $0["name"] == "execs_by_pid" }?["id"]
            let bigger: JSONValue = [
                "execs_by_pid": ["maxEntries": 8192],
                "exec_events": ["maxEntries": 65536],
                "raw_values": ["valueSize": 16, "numaNode": 0],
            ]
            let resize = try load(client, objectId: objectId, maps: bigger, extra: ["replace": true, "keepMaps": ["execs_by_pid"]])
            #expect(resize.code == .invalidParams)
            #expect(resize.message == "maps.execs_by_pid.maxEntries: map 'execs_by_pid' is kept, and a kept map keeps its size (4096); 8192 would need a new map: replace without keeping it")
            #expect(resize.data == ["field": "maps.execs_by_pid.maxEntries", "map": "execs_by_pid", "maxEntries": 4096])
            #expect(try client.call("probe.get", ["probe": "sized"])["maps"] == first["maps"])

            // The same size keeps the same kernel map; a new size without keeping it makes a new one.
            let kept = try client.call("probe.load", ["name": "sized", "objectId": .string(objectId), "maps": Self.sizes,
                                                      "replace": true, "keepMaps": ["execs_by_pid"]])
            #expect(kept["maps"]?.arrayValue.first { $0["name"] == "execs_by_pid" }?["id"] == keptID)
            let resized = try client.call("probe.load", ["name": "sized", "objectId": .string(objectId), "maps": bigger, "replace": true])
            let newMap = try #require(resized["maps"]?.arrayValue.first { $0["name"] == "execs_by_pid" })
            #expect(newMap["id"] != keptID)
            #expect(newMap["maxEntries"] == 8192)
            #expect(resized["mapSettings"] == bigger)
            try client.call("probe.unload", ["probe": "sized"])
            #expect(server.pins() == [])
        }
    }

    @Test func theCommandLineSizesMapsWithMapSize() async throws {
        try await withServer { server in
            let object = TestEnvironment.programPath(Self.program)
            let unsized = try bpfleet(["-n", server.address, "probe", "load", object, "--name", "cli"])
            #expect(unsized.status == 1)
            #expect(unsized.stderr.contains("maps.execs_by_pid.maxEntries: map 'execs_by_pid' (hash) is declared with max_entries 0"))
            let zero = try bpfleet(["-n", server.address, "probe", "load", object, "--name", "cli", "--map-size", "execs_by_pid=0"])
            #expect(zero.status == 64)
            #expect(zero.stderr.contains("--map-size: '0' is not a size (a whole number from 1 to 4294967295)"))
            let loaded = try bpfleet(["-n", server.address, "-o", "json", "probe", "load", object, "--name", "cli",
                                      "--map-size", "execs_by_pid=1024", "--map-size", "exec_events=0x4000"])
            #expect(loaded.status == 0, "\(loaded.stderr)")
            let probe = try #require(loaded.json?.arrayValue.first?["result"])
            #expect(probe["mapSettings"] == ["execs_by_pid": ["maxEntries": 1024], "exec_events": ["maxEntries": 16384]])
            #expect(probe["maps"]?.arrayValue.first { $0["name"] == "exec_events" }?["maxEntries"] == 16384)
            #expect(try bpfleet(["-n", server.address, "probe", "unload", "cli"]).status == 0)
            #expect(server.pins() == [])
        }
    }
}

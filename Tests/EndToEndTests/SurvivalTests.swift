import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Probes outlive bpfleetd: a restarted server adopts what an earlier one
/// left pinned (same kernel objects, counts going on), restores what lost
/// its pins from the desired state, and reports what it could not bring
/// back without letting it stop the rest (docs/state-and-pins.md).
/// Serialized: its tests count this process's getsid calls exactly.
@Suite(.serialized, .requiresKernel)
struct SurvivalTests {
    // getsid: a system call nothing else in the test process makes (other
    // suites count getppid in this same process, concurrently).
    #if arch(arm64)
    static let getsidNumber: Int64 = 156
    #else
    static let getsidNumber: Int64 = 124  // x86_64
    #endif

    /// Kernel ids of what a probe holds.
    struct KernelIDs: Equatable {
        var programs: [UInt32]
        var maps: [UInt32]
        var links: [UInt32]

        init(_ probe: JSONValue) {
            programs = probe["programs"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 }
            maps = probe["maps"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 }
            links = probe["links"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 }
        }

        var all: [(String, UInt32)] { programs.map { ("prog", $0) } + maps.map { ("map", $0) } + links.map { ("link", $0) } }
    }

    /// Loads and attaches the two test probes: `execs` (exec_count on a
    /// tracepoint) and `sys` (syscall_count on a raw tracepoint, counting
    /// this process only).
    func loadBoth(_ client: LineClient) throws {
        try client.load("exec_count", as: "execs")
        try client.call("probe.attach", ["probe": "execs", "program": "count_exec",
                                         "target": ["type": "tracepoint", "category": "sched", "name": "sched_process_exec"]])
        try client.load("syscall_count", as: "sys", globals: ["target_tgid": .int(Int64(getpid()))])
        try client.call("probe.attach", ["probe": "sys", "program": "count_syscall", "target": ["type": "raw_tracepoint", "name": "sys_enter"]])
    }

    func execCount(_ client: LineClient, _ comm: String) throws -> JSONValue? {
        try client.snapshot("execs", "exec_counts").first { $0["key"] == ["comm": .string(comm)] }?["value"]
    }

    func getsidCount(_ client: LineClient) throws -> JSONValue? {
        try client.snapshot("sys", "syscalls").first { $0["key"] == .int(Self.getsidNumber) }?["value"]
    }

    /// The value bpftool reads for a comm in a pinned exec_counts map:
    /// the kernel's word, with no bpfleetd running.
    func pinnedExecCount(_ server: ServerProcess, _ comm: String) throws -> Int? {
        let dump = try run(Bpftool.path, ["-j", "map", "dump", "pinned", server.pinRoot + "/execs/maps/exec_counts"])
        let entries = try JSONSerialization.jsonObject(with: dump.stdout) as? [[String: Any]] ?? []
        let ours = entries.first { (($0["formatted"] as? [String: Any])?["key"] as? [String: Any])?["comm"] as? String == comm }
        return (ours?["formatted"] as? [String: Any])?["value"] as? Int
    }

    func calls(getsid times: Int) {
        for _ in 0..<times { _ = getsid(0) }
    }

    /// Unloads both probes and checks with bpftool that none of `ids` is left.
    func unloadBothLeavesNothing(_ client: LineClient, _ server: ServerProcess, _ ids: [KernelIDs]) throws {
        try client.call("probe.unload", ["probe": "execs"])
        try client.call("probe.unload", ["probe": "sys"])
        for probe in ids {
            for (kind, id) in probe.all { #expect(try Bpftool.isGone(kind, id: id), "\(kind) \(id) is still in the kernel") }
        }
        #expect(server.pins().isEmpty)
        #expect(try client.call("probe.list")["probes"] == [])
        #expect((try? FileManager.default.contentsOfDirectory(atPath: server.stateDirectory + "/probes")) == [])
    }

    @Test(arguments: [SIGKILL, SIGTERM])
    func aRestartedServerAdoptsRunningProbesAndCountsGoOn(signal: Int32) async throws {
        try await withServer { server in
            var client = try server.client()
            try loadBoth(client)
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 20)
            calls(getsid: 1000)
            #expect(try execCount(client, binary.comm) == 20)
            let before = (execs: KernelIDs(try client.call("probe.get", ["probe": "execs"])),
                          sys: KernelIDs(try client.call("probe.get", ["probe": "sys"])))

            // No server: the programs run on, the kernel's count rises.
            server.terminate(signal: signal)
            #expect(!server.process.isRunning)
            for (kind, id) in before.execs.all + before.sys.all { #expect(try Bpftool.exists(kind, id: id)) }
            try Workload.exec(binary.path, times: 5)
            calls(getsid: 500)
            #expect(try pinnedExecCount(server, binary.comm) == 25)

            try server.restart(after: signal)
            client = try server.client()
            let execs = try client.call("probe.get", ["probe": "execs"])
            let sys = try client.call("probe.get", ["probe": "sys"])
            #expect(KernelIDs(execs) == before.execs)
            #expect(KernelIDs(sys) == before.sys)
            for probe in [execs, sys] {
                #expect(probe["origin"] == "adopted")
                #expect(probe["state"] == "running")
                #expect(probe["adoptedAt"]?.stringValue != nil)
                #expect(probe["restoredAt"] == nil)
            }
            #expect(execs["links"]?.arrayValue.first?["linkId"] == 1)
            #expect(sys["globals"] == ["target_tgid": .int(Int64(getpid()))])
            #expect(server.log.contains("probe adopted"))

            // Counts go on from where they were: 20 + 5 + 5, 1000 + 500 + 500.
            try Workload.exec(binary.path, times: 5)
            calls(getsid: 500)
            #expect(try execCount(client, binary.comm) == 30)
            #expect(try getsidCount(client) == 2000)
            // Typed values need the object's BTF: the .rodata global reads back.
            #expect(try client.snapshot("sys", ".rodata").first?["value"] == ["target_tgid": .int(Int64(getpid()))])

            // Map writes reach the adopted maps.
            let map: JSONValue = ["probe": "execs", "name": "exec_counts"]
            try client.call("map.update", ["map": map, "key": ["comm": "adopted-key"], "value": 41])
            #expect(try client.call("map.lookup", ["map": map, "key": ["comm": "adopted-key"]])["value"] == 41)
            try client.call("map.delete", ["map": map, "key": ["comm": "adopted-key"]])
            #expect(try client.callError("map.lookup", ["map": map, "key": ["comm": "adopted-key"]]).code == .notFound)
            // By kernel id too.
            let byID = try client.call("map.lookup", ["map": ["id": .uint(UInt64(before.execs.maps[0]))], "key": ["comm": .string(binary.comm)]])
            #expect(byID["value"] == 30)

            // A new link on an adopted probe (attached by descriptor), then detach.
            let fork = try client.call("probe.attach", ["probe": "execs", "program": "count_exec",
                                                        "target": ["type": "tracepoint", "category": "sched", "name": "sched_process_fork"]])
            #expect(fork["linkId"] == 2)
            let forkLink = try #require(fork["id"]?.uint64Value).asUInt32
            #expect(try Bpftool.show("link", id: forkLink)?["prog_id"] as? Int == Int(before.execs.programs[0]))
            let rawLink = try client.call("probe.attach", ["probe": "sys", "program": "count_syscall", "target": ["type": "auto"]])
            #expect(rawLink["linkId"] == 2)
            // Two links of the same program: each call counts twice.
            calls(getsid: 100)
            #expect(try getsidCount(client) == 2200)
            try client.call("probe.detach", ["probe": "sys", "linkId": 2])
            #expect(try Bpftool.isGone("link", id: rawLink["id"]!.uint64Value!.asUInt32))
            try client.call("probe.detach", ["probe": "execs", "linkId": 2])
            #expect(try Bpftool.isGone("link", id: forkLink))
            // The adopted link detaches too.
            try client.call("probe.detach", ["probe": "execs", "linkId": 1])
            #expect(try Bpftool.isGone("link", id: before.execs.links[0]))
            try Workload.exec(binary.path, times: 3)
            #expect(try execCount(client, binary.comm) == 30)

            try unloadBothLeavesNothing(client, server, [before.execs, before.sys])
        }
    }

    @Test func watchesAndEventStreamsWorkOnAnAdoptedProbe() async throws {
        try await withServer { server in
            var client = try server.client()
            let objectId = try client.upload("execsnoop")
            try client.call("probe.load", ["name": "snoop", "objectId": .string(objectId), "programs": ["execsnoop"]])
            try client.call("probe.attach", ["probe": "snoop", "program": "execsnoop", "target": ["type": "auto"]])
            try client.load("syscall_count", as: "sys", globals: ["target_tgid": .int(Int64(getpid()))])
            try client.call("probe.attach", ["probe": "sys", "program": "count_syscall", "target": ["type": "raw_tracepoint", "name": "sys_enter"]])
            try server.restart(after: SIGKILL)
            client = try server.client()
            #expect(try client.call("probe.get", ["probe": "snoop"])["origin"] == "adopted")

            calls(getsid: 300)
            let watcher = try server.client()
            let watch = try watcher.call("map.watch", ["map": ["probe": "sys", "name": "syscalls"], "intervalMs": 100, "mode": "full"])
            #expect(watch["subscription"] != nil)
            var watched: JSONValue?
            let deadline = Date().addingTimeInterval(20)
            while watched != 300, Date() < deadline, let line = try watcher.readLine(timeout: 10) {
                let note = try JSONDecoder().decode(JSONValue.self, from: line)
                guard note["method"] == "subscription.map" else { continue }
                watched = note["params"]?["entries"]?.arrayValue.first { $0["key"] == .int(Self.getsidNumber) }?["value"]
            }
            #expect(watched == 300)

            let events = try server.client()
            try events.call("events.subscribe", ["map": ["probe": "snoop", "name": "events"], "recordType": "struct exec_event"])
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 5)
            var mine = 0
            let eventsDeadline = Date().addingTimeInterval(20)
            while mine < 5, Date() < eventsDeadline, let line = try events.readLine(timeout: 10) {
                let note = try JSONDecoder().decode(JSONValue.self, from: line)
                guard note["method"] == "subscription.events" else { continue }
                mine += note["params"]!["records"]!.arrayValue.filter { $0["comm"] == .string(binary.comm) && $0["filename"] == .string(binary.path) }.count
            }
            #expect(mine == 5)
            try client.call("probe.unload", ["probe": "snoop"])
            try client.call("probe.unload", ["probe": "sys"])
            #expect(server.pins().isEmpty)
        }
    }

    @Test func probesWhosePinsAreGoneAreRestoredFromTheDesiredState() async throws {
        try await withServer { server in
            var client = try server.client()
            try loadBoth(client)
            try client.call("probe.detach", ["probe": "sys", "linkId": 1])
            try client.call("probe.attach", ["probe": "sys", "program": "count_syscall", "target": ["type": "raw_tracepoint", "name": "sys_enter"]])
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 10)
            let before = (execs: KernelIDs(try client.call("probe.get", ["probe": "execs"])),
                          sys: KernelIDs(try client.call("probe.get", ["probe": "sys"])))
            let loadedAt = try client.call("probe.get", ["probe": "execs"])["loadedAt"]

            // As a reboot would: the server down and the pins gone.
            server.terminate()
            server.removePins()
            for (kind, id) in before.execs.all + before.sys.all { #expect(try Bpftool.isGone(kind, id: id)) }

            try server.restart()
            client = try server.client()
            let execs = try client.call("probe.get", ["probe": "execs"])
            let sys = try client.call("probe.get", ["probe": "sys"])
            for probe in [execs, sys] {
                #expect(probe["origin"] == "restored")
                #expect(probe["state"] == "running")
                #expect(probe["restoredAt"]?.stringValue != nil)
                #expect(probe["restoreError"] == nil)
            }
            #expect(execs["loadedAt"] == loadedAt)
            let after = (execs: KernelIDs(execs), sys: KernelIDs(sys))
            #expect(after.execs.programs.count == 1 && after.execs.links.count == 1)
            #expect(Set(after.execs.programs).isDisjoint(with: before.execs.programs))
            #expect(Set(after.sys.links).isDisjoint(with: before.sys.links))
            // The same link ids, and the next one after them.
            #expect(sys["links"]?.arrayValue.map { $0["linkId"] } == [2])
            #expect(sys["globals"] == ["target_tgid": .int(Int64(getpid()))])
            for (kind, id) in after.execs.all + after.sys.all { #expect(try Bpftool.exists(kind, id: id)) }
            #expect(server.log.contains("probe restored"))

            // Counts start again from nothing, exactly.
            #expect(try execCount(client, binary.comm) == nil)
            try Workload.exec(binary.path, times: 7)
            calls(getsid: 300)
            #expect(try execCount(client, binary.comm) == 7)
            #expect(try getsidCount(client) == 300)
            #expect(try client.call("probe.attach", ["probe": "sys", "program": "count_syscall", "target": ["type": "auto"]])["linkId"] == 3)

            try unloadBothLeavesNothing(client, server, [after.execs, after.sys])
        }
    }

    @Test func aMissingLinkPinIsAttachedAgainAndTheRestIsAdopted() async throws {
        try await withServer { server in
            var client = try server.client()
            try loadBoth(client)
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 4)
            let before = KernelIDs(try client.call("probe.get", ["probe": "execs"]))
            server.terminate(signal: SIGKILL)
            unlink(server.pinRoot + "/execs/links/1")
            #expect(try Bpftool.isGone("link", id: before.links[0]))
            try server.restart(after: SIGKILL)
            client = try server.client()
            let execs = try client.call("probe.get", ["probe": "execs"])
            #expect(execs["origin"] == "adopted")
            #expect(execs["state"] == "running")
            let after = KernelIDs(execs)
            #expect(after.programs == before.programs)
            #expect(after.maps == before.maps)
            #expect(after.links.count == 1 && after.links != before.links)
            #expect(execs["links"]?.arrayValue.first?["linkId"] == 1)
            try Workload.exec(binary.path, times: 3)
            #expect(try execCount(client, binary.comm) == 7)
            try unloadBothLeavesNothing(client, server, [after])
        }
    }

    @Test func anAdoptedProbeWhoseLinkCannotComeBackRunsDegraded() async throws {
        try await withServer { server in
            var client = try server.client()
            try loadBoth(client)
            server.terminate(signal: SIGKILL)
            // A link of the desired state whose tracepoint this kernel lacks
            // (as if it had gone away with a module), and no pin for it.
            let path = server.stateDirectory + "/probes/execs.json"
            var state = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            guard case .object(var fields) = state, case .array(var links)? = fields["links"] else { throw TestFailure("\(state)") }
            links.append(["linkId": 5, "program": "count_exec", "attachedAt": "2026-01-01T00:00:00Z",
                          "target": ["type": "tracepoint", "category": "sched", "name": "no_such_tracepoint_xyz"]])
            fields["links"] = .array(links)
            fields["nextLinkId"] = 6
            state = .object(fields)
            try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: path))

            try server.restart(after: SIGKILL)
            client = try server.client()
            var execs = try client.call("probe.get", ["probe": "execs"])
            #expect(execs["origin"] == "adopted")
            #expect(execs["state"] == "degraded")
            #expect(execs["restoreError"]?.stringValue?.contains("link 5") == true, "\(execs)")
            // The link that could not come back is listed, failed, with why.
            #expect(execs["links"]?.arrayValue.map { $0["linkId"] } == [1, 5])
            #expect(execs["links"]?.arrayValue.map { $0["state"] } == ["attached", "failed"])
            #expect(execs["links"]?.arrayValue.last?["stateReason"]?.stringValue?.contains("no_such_tracepoint_xyz") == true)
            let ids = KernelIDs(execs)
            // It still counts through the link that came back.
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 2)
            #expect(try execCount(client, binary.comm) == 2)
            // Detaching the link that could not come back clears the state.
            try client.call("probe.detach", ["probe": "execs", "linkId": 5])
            execs = try client.call("probe.get", ["probe": "execs"])
            #expect(execs["state"] == "running")
            #expect(execs["restoreError"] == nil)
            let saved = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!saved.contains("no_such_tracepoint_xyz"))
            #expect(try client.call("probe.attach", ["probe": "execs", "program": "count_exec", "target": ["type": "tracepoint", "category": "sched", "name": "sched_process_fork"]])["linkId"] == 6)
            try unloadBothLeavesNothing(client, server, [ids])
        }
    }

    @Test func aProbeThatCannotComeBackFailsAloneAndUnloads() async throws {
        try await withServer { server in
            var client = try server.client()
            try loadBoth(client)
            let objectId = try client.upload("syscall_count")
            server.terminate()
            // Desired states written by hand: a raw tracepoint this kernel
            // does not have, and an object the store does not hold.
            func write(_ name: String, objectId: String, target: String) throws {
                let text = """
                {"version":1,"name":"\(name)","objectId":"\(objectId)","programs":["count_syscall"],"globals":{},"labels":{"by":"hand"},\
                "loadedAt":"2026-01-01T00:00:00Z","links":[{"linkId":1,"program":"count_syscall",\
                "target":{"type":"raw_tracepoint","name":"\(target)"},"attachedAt":"2026-01-01T00:00:00Z"}],"nextLinkId":2}
                """
                try text.write(toFile: server.stateDirectory + "/probes/\(name).json", atomically: true, encoding: .utf8)
            }
            try write("ghost", objectId: objectId, target: "no_such_raw_tracepoint_xyz")
            try write("orphan", objectId: "sha256:" + String(repeating: "ab", count: 32), target: "sys_enter")

            try server.restart()
            client = try server.client()
            let ghost = try client.call("probe.get", ["probe": "ghost"])
            #expect(ghost["state"] == "failed")
            #expect(ghost["origin"] == "restored")
            #expect(ghost["restoreError"]?.stringValue?.contains("raw tracepoint no_such_raw_tracepoint_xyz does not exist") == true,
                    "\(ghost)")
            #expect(ghost["programs"] == [] && ghost["maps"] == [])
            let orphan = try client.call("probe.get", ["probe": "orphan"])
            #expect(orphan["state"] == "failed")
            #expect(orphan["restoreError"]?.stringValue?.contains("is not in the state directory") == true, "\(orphan)")
            // A failed restore leaves nothing of it in bpffs.
            #expect(!server.pins().contains { $0.hasPrefix("ghost") })
            // The others are fine.
            #expect(try client.call("probe.get", ["probe": "execs"])["origin"] == "adopted")
            #expect(try client.call("probe.list")["probes"]?.arrayValue.count == 4)
            // What needs the kernel objects says why it cannot.
            let attach = try client.callError("probe.attach", ["probe": "ghost", "program": "count_syscall", "target": ["type": "auto"]])
            #expect(attach.code == .conflict)
            #expect(try client.callError("probe.load", ["name": "ghost", "objectId": .string(objectId)]).code == .conflict)
            // The object is still in use by the failed probe's desired state.
            #expect(try client.callError("object.delete", ["objectId": .string(objectId)]).code == .conflict)

            try client.call("probe.unload", ["probe": "ghost"])
            try client.call("probe.unload", ["probe": "orphan"])
            #expect(try client.callError("probe.get", ["probe": "ghost"]).code == .notFound)
            #expect(!FileManager.default.fileExists(atPath: server.stateDirectory + "/probes/ghost.json"))
            // Now the name is free again, and loads.
            try client.call("probe.load", ["name": "ghost", "objectId": .string(objectId)])
            try client.call("probe.unload", ["probe": "ghost"])
            try unloadBothLeavesNothing(client, server, [])
        }
    }

    @Test func aCorruptDesiredStateIsSetAsideAndTheServerServes() async throws {
        try await withServer { server in
            var client = try server.client()
            try client.load("exec_count", as: "execs")
            server.terminate(signal: SIGKILL)
            let probes = server.stateDirectory + "/probes"
            try "{\"version\":1,\"name\":\"torn".write(toFile: probes + "/torn.json", atomically: true, encoding: .utf8)
            try Data([0xff, 0x00, 0x13]).write(to: URL(fileURLWithPath: probes + "/binary.json"))
            try server.restart()
            client = try server.client()
            #expect(try client.call("probe.list")["probes"]?.arrayValue.compactMap { $0["name"]?.stringValue } == ["execs"])
            let files = try FileManager.default.contentsOfDirectory(atPath: probes).sorted()
            #expect(files.contains("execs.json"))
            #expect(!files.contains("torn.json") && !files.contains("binary.json"))
            #expect(files.contains { $0.hasPrefix("torn.json.corrupt-") })
            #expect(files.contains { $0.hasPrefix("binary.json.corrupt-") })
            #expect(server.log.contains("unreadable desired state set aside"))
            try client.call("probe.unload", ["probe": "execs"])
            #expect(server.pins().isEmpty)
        }
    }
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `probe.load` with `replace: true`: links move to the new programs under
/// the same link ids, kept maps keep counting, failures leave the old probe
/// as it was, and a restart adopts the new probe. bpftool is the witness.
@Suite(.serialized, .requiresKernel)
struct ReplaceTests {
    /// Kernel ids of the programs or maps whose name starts with `prefix`:
    /// other suites load objects concurrently, so only ours are compared.
    private func named(_ kind: String, _ prefix: String) throws -> Set<UInt32> {
        let output = try mustRun(Bpftool.path, ["-j", kind, "show"])
        let list = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        return Set(list.filter { ($0["name"] as? String)?.hasPrefix(prefix) == true }.compactMap { ($0["id"] as? Int).map(UInt32.init) })
    }

    private func packets(_ client: LineClient, _ probe: String) throws -> UInt64 {
        try client.call("map.lookup", ["map": ["probe": .string(probe), "name": "xdp_packets"], "key": 0])["value"]?.uint64Value ?? 0
    }

    private func programIDs(_ probe: JSONValue) -> [UInt32] {
        probe["programs"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 }
    }

    private func replace(_ program: String, as name: String, keepMaps: [String] = [], globals: [String: JSONValue] = [:],
                         _ client: LineClient) throws -> JSONValue {
        let objectId = try client.upload(program)
        return try client.call("probe.load", [
            "name": .string(name), "objectId": .string(objectId), "replace": true,
            "keepMaps": .array(keepMaps.map(JSONValue.string)), "globals": .object(globals),
        ])
    }

    /// The XDP link moves in place (bpf_link_update) while a stream of
    /// packets runs: not one packet is missed or counted twice.
    @Test func xdpReplaceMidStreamCountsEveryPacket() async throws {
        let veth = try VethPair.create()
        defer { veth.remove() }
        try await withServer { server in
            let client = try server.client()
            let port = Int.random(in: 20000...40000)
            let old = try client.load("xdp_count", as: "xdp", globals: ["target_port": .int(Int64(port))])
            let link = try client.call("probe.attach", [
                "probe": "xdp", "program": "count_xdp",
                "target": ["type": "xdp", "interface": .string(veth.hostSide), "mode": "generic"],
            ])
            let linkID = try #require(link["id"]?.uint64Value).asUInt32
            let oldProgram = try #require(programIDs(old).first)
            let mapID = try #require(old["maps"]?.arrayValue.first { $0["name"] == "xdp_packets" }?["id"])

            let total = 20_000
            let sender = Process()
            sender.executableURL = URL(fileURLWithPath: ipTool)
            sender.arguments = ["netns", "exec", veth.namespace, python3, "-c", """
                import socket, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.sendto(b"w", ("\(veth.hostAddress)", 9))
                time.sleep(0.3)
                for i in range(\(total)):
                    s.sendto(b"x", ("\(veth.hostAddress)", \(port)))
                    if i % 100 == 99:
                        time.sleep(0.01)
                """]
            try sender.run()
            defer { if sender.isRunning { sender.terminate() } }
            // Mid-stream: some counted, the stream still running.
            _ = try settle(atLeast: 2_000, timeout: 60) { try packets(client, "xdp") }
            #expect(sender.isRunning)

            let new = try replace("xdp_count_next", as: "xdp", keepMaps: ["xdp_packets"],
                                  globals: ["target_port": .int(Int64(port))], client)
            let newProgram = try #require(programIDs(new).first)
            #expect(newProgram != oldProgram)
            #expect(new["replacedProgramIds"]?.arrayValue.compactMap { $0.uint64Value?.asUInt32 } == [oldProgram])
            #expect(new["links"]?.arrayValue.first?["linkId"] == 1)
            #expect(new["links"]?.arrayValue.first?["id"]?.uint64Value?.asUInt32 == linkID)
            #expect(new["maps"]?.arrayValue.first { $0["name"] == "xdp_packets" }?["id"] == mapID)
            #expect(try Bpftool.show("link", id: linkID)?["prog_id"] as? Int == Int(newProgram))
            #expect(try Bpftool.isGone("prog", id: oldProgram))

            sender.waitUntilExit()
            #expect(sender.terminationStatus == 0)
            #expect(try settle(atLeast: UInt64(total)) { try packets(client, "xdp") } == UInt64(total))
            #expect(server.pins() == ["xdp", "xdp/links", "xdp/links/1", "xdp/maps", "xdp/maps/_rodata", "xdp/maps/xdp_packets",
                                      "xdp/programs", "xdp/programs/count_xdp"])

            let audit = try client.call("probe.get", ["probe": "xdp"])
            #expect(audit["objectId"] == new["objectId"])
            try client.call("probe.unload", ["probe": "xdp"])
            #expect(try Bpftool.isGone("link", id: linkID))
            #expect(try Bpftool.isGone("prog", id: newProgram))
            #expect(server.pins().isEmpty)
        }
    }

    /// A tracepoint link cannot be updated: a new link is attached before
    /// the old one goes; with the map kept, counts continue exactly.
    @Test func tracepointReplaceAttachesAnewAndKeepsCounting() async throws {
        try await withServer { server in
            let client = try server.client()
            let old = try client.load("exec_count", as: "execs")
            let link = try client.call("probe.attach", [
                "probe": "execs", "program": "count_exec",
                "target": ["type": "tracepoint", "category": "sched", "name": "sched_process_exec"],
            ])
            let oldLink = try #require(link["id"]?.uint64Value).asUInt32
            let oldProgram = try #require(programIDs(old).first)
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 5)

            let new = try replace("exec_count", as: "execs", keepMaps: ["exec_counts"], client)
            let newProgram = try #require(programIDs(new).first)
            let newLink = try #require(new["links"]?.arrayValue.first)
            #expect(newLink["linkId"] == 1)
            let newLinkID = try #require(newLink["id"]?.uint64Value).asUInt32
            #expect(newLinkID != oldLink)
            #expect(try Bpftool.show("link", id: newLinkID)?["prog_id"] as? Int == Int(newProgram))
            #expect(try Bpftool.isGone("link", id: oldLink))
            #expect(try Bpftool.isGone("prog", id: oldProgram))

            try Workload.exec(binary.path, times: 7)
            let key: JSONValue = ["comm": .string(binary.comm)]
            let entry = try client.call("map.lookup", ["map": ["probe": "execs", "name": "exec_counts"], "key": key])
            #expect(entry["value"] == 12)

            // The next link id is the old probe's next one.
            let second = try client.call("probe.attach", [
                "probe": "execs", "program": "count_exec",
                "target": ["type": "tracepoint", "category": "sched", "name": "sched_process_fork"],
            ])
            #expect(second["linkId"] == 2)
            try client.call("probe.unload", ["probe": "execs"])
            #expect(try Bpftool.isGone("link", id: newLinkID))
            #expect(server.pins().isEmpty)
        }
    }

    /// Each failure answers precisely and leaves the old probe running, and
    /// nothing of the new one: no program, map or pin.
    @Test func failedReplacesLeaveTheOldProbeUntouched() async throws {
        let veth = try VethPair.create()
        defer { veth.remove() }
        try await withServer { server in
            let client = try server.client()
            let port = Int.random(in: 20000...40000)
            let old = try client.load("xdp_count", as: "xdp", globals: ["target_port": .int(Int64(port))])
            let link = try client.call("probe.attach", [
                "probe": "xdp", "program": "count_xdp",
                "target": ["type": "xdp", "interface": .string(veth.hostSide), "mode": "generic"],
            ])
            let linkID = try #require(link["id"]?.uint64Value).asUInt32
            let oldProgram = try #require(programIDs(old).first)
            let pinsBefore = server.pins()
            let programsBefore = try named("prog", "count_xdp")
            let mapsBefore = try named("map", "xdp")
            let objects = try ["xdp_count_next", "tc_count", "xdp_count_wide"].map { try client.upload($0) }

            func attempt(_ params: [String: JSONValue]) throws -> ResponseError {
                var all = params
                all["name"] = "xdp"
                all["replace"] = true
                return try client.callError("probe.load", .object(all))
            }
            let rejected = try attempt(["objectId": .string(objects[0]), "globals": ["reject": 1]])
            #expect(rejected.code == .verifierRejected)
            #expect(rejected.message.contains("count_xdp"))

            let missing = try attempt(["objectId": .string(objects[1])])
            #expect(missing.code == .invalidParams)
            #expect(missing.message.contains("'count_xdp'"))

            let noSuchMap = try attempt(["objectId": .string(objects[0]), "keepMaps": ["nope"]])
            #expect(noSuchMap.code == .invalidParams)
            #expect(noSuchMap.message.contains("keepMaps[0]") && noSuchMap.message.contains("'nope'"))

            let wrongSize = try attempt(["objectId": .string(objects[2]), "keepMaps": ["xdp_packets"]])
            #expect(wrongSize.code == .invalidParams)
            #expect(wrongSize.message.contains("'xdp_packets'") && wrongSize.message.contains("max entries 1 vs 2"))

            // Without replace, the name is still taken.
            let taken = try client.callError("probe.load", ["name": "xdp", "objectId": .string(objects[0])])
            #expect(taken.code == .conflict)

            #expect(server.pins() == pinsBefore)
            #expect(try named("prog", "count_xdp") == programsBefore)
            #expect(try named("map", "xdp") == mapsBefore)
            #expect(try Bpftool.show("link", id: linkID)?["prog_id"] as? Int == Int(oldProgram))
            try veth.sendUDP(to: veth.hostAddress, port: port, count: 100, fromPeer: true)
            #expect(try settle(atLeast: 100) { try packets(client, "xdp") } == 100)
            let described = try client.call("probe.get", ["probe": "xdp"])
            #expect(programIDs(described) == [oldProgram])

            try client.call("probe.unload", ["probe": "xdp"])
            #expect(try Bpftool.isGone("prog", id: oldProgram))
            #expect(server.pins().isEmpty)
        }
    }

    /// kill -9 after a replace: the restarted server adopts the new probe
    /// (same kernel ids), which keeps counting in the kept map.
    @Test func replacedProbeIsAdoptedAfterKill() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("exec_count", as: "execs")
            try client.call("probe.attach", [
                "probe": "execs", "program": "count_exec",
                "target": ["type": "tracepoint", "category": "sched", "name": "sched_process_exec"],
            ])
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 3)
            let new = try replace("exec_count", as: "execs", keepMaps: ["exec_counts"], client)
            let newProgram = try #require(programIDs(new).first)

            try server.restart(after: SIGKILL)
            let again = try server.client()
            let adopted = try again.call("probe.get", ["probe": "execs"])
            #expect(adopted["origin"] == "adopted")
            #expect(programIDs(adopted) == [newProgram])
            #expect(adopted["links"]?.arrayValue.first?["id"] == new["links"]?.arrayValue.first?["id"])
            #expect(!server.pins().contains { $0.contains("~") })
            try Workload.exec(binary.path, times: 4)
            let entry = try again.call("map.lookup", ["map": ["probe": "execs", "name": "exec_counts"], "key": ["comm": .string(binary.comm)]])
            #expect(entry["value"] == 7)
            try again.call("probe.unload", ["probe": "execs"])
            #expect(try Bpftool.isGone("prog", id: newProgram))
            #expect(server.pins().isEmpty)
        }
    }
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `probe.load` with `attach`: the probe comes up with every link in one
/// call, or the call fails and nothing of it is left.
@Suite(.requiresKernel)
struct LoadWithAttachTests {
    static let exec: JSONValue = ["type": "tracepoint", "category": "sched", "name": "sched_process_exec"]

    @Test func everyLinkIsAttachedInOrderAndCounts() async throws {
        let cgroup = try TestCgroup.create()
        defer { cgroup.remove() }
        try await withServer { server in
            let client = try server.client()
            let port = Int.random(in: 20000...40000)
            let objectId = JSONValue.string(try client.upload("cgroup_count"))
            let probe = try client.call("probe.load", [
                "name": "both", "objectId": objectId, "globals": ["target_port": .int(Int64(port))],
                "attach": [
                    ["program": "count_egress", "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "egress"]],
                    ["program": "count_sock_create", "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "sock_create"]],
                ],
            ])
            let links = try #require(probe["links"]?.arrayValue)
            #expect(links.map { $0["linkId"] } == [1, 2])
            #expect(links.map { $0["program"] } == ["count_egress", "count_sock_create"])
            #expect(links.map { $0["state"] } == ["attached", "attached"])
            let programIDs = Dictionary(uniqueKeysWithValues: try #require(probe["programs"]?.arrayValue).map {
                ($0["name"]!.stringValue!, Int($0["id"]!.uint64Value!))
            })
            for link in links {
                let shown = try #require(try Bpftool.show("link", id: link["id"]!.uint64Value!.asUInt32))
                #expect(shown["prog_id"] as? Int == programIDs[link["program"]!.stringValue!])
            }
            #expect(server.pins().filter { $0.hasPrefix("both/links/") } == ["both/links/1", "both/links/2"])

            try cgroup.runPython("""
                import socket
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
                for _ in range(30): s.sendto(b"x", ("127.0.0.1", \(port)))
                """)
            let map: JSONValue = ["probe": "both", "name": "cgroup_counts"]
            #expect(try client.call("map.lookup", ["map": map, "key": 0])["value"] == 30)
            #expect(try client.call("map.lookup", ["map": map, "key": 1])["value"] == 2)

            // The next probe.attach takes the next link id.
            let third = try client.call("probe.attach", [
                "probe": "both", "program": "count_egress", "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "egress"],
            ])
            #expect(third["linkId"] == 3)

            // A restart finds the links of the load in the desired state.
            try server.restart()
            let again = try server.client().call("probe.get", ["probe": "both"])
            #expect(again["origin"] == "adopted")
            #expect(again["links"]?.arrayValue.map { $0["linkId"] } == [1, 2, 3])
            try server.client().call("probe.unload", ["probe": "both"])
            #expect(server.pins().isEmpty)
        }
    }

    @Test func aFailingLinkLeavesNothingOfTheProbe() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = JSONValue.string(try client.upload("exec_count"))
            let probesBefore = try client.call("probe.list")
            let descriptorsBefore = server.openDescriptors()

            let badSecond = try client.callError("probe.load", [
                "name": "half", "objectId": objectId,
                "attach": [["program": "count_exec", "target": Self.exec],
                           ["program": "count_exec", "target": ["type": "tracepoint", "category": "sched", "name": "no_such_tracepoint"]]],
            ])
            #expect(badSecond.code == .attachFailed)
            #expect(badSecond.data?["attach"] == 1)
            #expect(badSecond.data?["errnoName"] == "ENOENT")
            #expect(badSecond.message.hasPrefix("attach[1] (count_exec to tracepoint): "))

            let noProgram = try client.callError("probe.load", [
                "name": "half", "objectId": objectId, "attach": [["program": "nope", "target": Self.exec]],
            ])
            #expect(noProgram.code == .notFound)
            #expect(noProgram.data?["field"] == "attach[0].program")

            let wrongKind = try client.callError("probe.load", [
                "name": "half", "objectId": objectId,
                "attach": [["program": "count_exec", "target": ["type": "raw_tracepoint", "name": "sys_enter"]]],
            ])
            #expect(wrongKind.code == .invalidParams)
            #expect(wrongKind.data?["field"] == "attach[0].target.type")

            let badShape = try client.callError("probe.load", [
                "name": "half", "objectId": objectId, "attach": [["program": "count_exec", "target": ["type": "tracepoint"]]],
            ])
            #expect(badShape.code == .invalidParams)
            #expect(badShape.data?["field"] == "params.attach[0].target.category")

            #expect(try client.call("probe.list") == probesBefore)
            #expect(server.pins().isEmpty)
            #expect(server.openDescriptors() == descriptorsBefore)

            // Replacing a loaded probe moves its links: a list of new ones is refused.
            try client.call("probe.load", ["name": "half", "objectId": objectId, "attach": [["program": "count_exec", "target": Self.exec]]])
            let replace = try client.callError("probe.load", [
                "name": "half", "objectId": objectId, "replace": true, "attach": [["program": "count_exec", "target": Self.exec]],
            ])
            #expect(replace.code == .invalidParams)
            #expect(replace.data?["field"] == "attach")
            #expect(try client.call("probe.get", ["probe": "half"])["links"]?.arrayValue.count == 1)
            try client.call("probe.unload", ["probe": "half"])
        }
    }
}

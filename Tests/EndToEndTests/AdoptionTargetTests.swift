import BpfleetShared
import Foundation
import TestSupport
import Testing

/// A restarted bpfleetd takes over every kind of link an earlier one left:
/// a perf_event attachment (one pinned link per CPU) as one link again, a
/// classic tc filter (its program pinned, the filter found again on its
/// interface), XDP and cgroup links; same kernel objects, counts going on,
/// and detach or unload removes them all (docs/state-and-pins.md).
@Suite(.requiresKernel)
struct AdoptionTargetTests {
    private func expectAdoptedAndRunning(_ probe: JSONValue) {
        #expect(probe["origin"] == "adopted")
        #expect(probe["state"] == "running")
        #expect(probe["restoreError"] == nil)
        for link in probe["links"]?.arrayValue ?? [] { #expect(link["state"] == "attached") }
    }

    private func perfLinkIDs(of programID: UInt32) throws -> Set<Int> {
        Set(try bpftoolLinks().filter { ($0["prog_id"] as? Int) == Int(programID) && $0["type"] as? String == "perf_event" }
            .compactMap { $0["id"] as? Int })
    }

    @Test func aPerfEventLinkOfOneLinkPerCPUIsAdoptedWhole() async throws {
        try await withServer { server in
            var client = try server.client()
            let probe = try client.load("perf_count", as: "perf")
            let programID = try #require(probe["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
            let link = try client.call("probe.attach", [
                "probe": "perf", "program": "count_sample", "target": ["type": "perf_event", "event": "cpu-clock", "frequency": 200],
            ])
            let kernelLinks = try perfLinkIDs(of: programID)
            #expect(kernelLinks.count == onlineCPUCount())
            #expect(Set(link["ids"]?.arrayValue.compactMap { $0.uint64Value.map(Int.init) } ?? []) == kernelLinks)

            server.terminate(signal: SIGKILL)
            try server.restart(after: SIGKILL)
            client = try server.client()
            let adopted = try client.call("probe.get", ["probe": "perf"])
            expectAdoptedAndRunning(adopted)
            let adoptedLink = try #require(adopted["links"]?.arrayValue.first)
            #expect(adoptedLink["linkId"] == 1)
            #expect(adoptedLink["id"] == link["id"])
            #expect(Set(adoptedLink["ids"]?.arrayValue.compactMap { $0.uint64Value.map(Int.init) } ?? []) == kernelLinks)
            #expect(try perfLinkIDs(of: programID) == kernelLinks)
            #expect(!server.log.contains("without some of its links"))

            // Samples still rise, through the adopted links.
            let sum = { try client.snapshot("perf", "samples").first?["value"]?.arrayValue.compactMap(\.uint64Value).reduce(0, +) ?? 0 }
            let before = try sum()
            #expect(try settle(atLeast: before + 1, sum) > before)

            try client.call("probe.detach", ["probe": "perf", "linkId": 1])
            for id in kernelLinks { #expect(try Bpftool.isGone("link", id: UInt32(id))) }
            #expect(!server.pins().contains { $0.hasPrefix("perf/links/1") })
            try client.call("probe.unload", ["probe": "perf"])
            #expect(try Bpftool.isGone("prog", id: programID))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func aClassicTCFilterIsFoundAgainCountsOnAndUnloadRemovesIt() async throws {
        let veth = try VethPair.create()
        defer { veth.remove() }
        try await withServer { server in
            var client = try server.client()
            let port = Int.random(in: 20000...40000)
            let probe = try client.load("tc_count", as: "tc", globals: ["target_port": .int(Int64(port))])
            let programIDs = probe["programs"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 }
            // A priority makes a classic filter on clsact, tcx or not.
            try client.call("probe.attach", [
                "probe": "tc", "program": "count_tc_ingress",
                "target": ["type": "tc", "interface": .string(veth.hostSide), "direction": "ingress", "priority": 9],
            ])
            try client.call("probe.attach", [
                "probe": "tc", "program": "count_tc_egress",
                "target": ["type": "tc", "interface": .string(veth.hostSide), "direction": "egress", "priority": 7],
            ])
            try veth.sendUDP(to: veth.hostAddress, port: port, count: 40, fromPeer: true)
            try veth.sendUDP(to: veth.peerAddress, port: port, count: 30, fromPeer: false)
            #expect(try settle(atLeast: 40) { try client.counter("tc", "tc_packets", 0) } == 40)
            #expect(try settle(atLeast: 30) { try client.counter("tc", "tc_packets", 1) } == 30)

            server.terminate(signal: SIGKILL)
            // No server: the filters count on.
            try veth.sendUDP(to: veth.hostAddress, port: port, count: 5, fromPeer: true)
            try server.restart(after: SIGKILL)
            client = try server.client()
            let adopted = try client.call("probe.get", ["probe": "tc"])
            expectAdoptedAndRunning(adopted)
            #expect(adopted["links"]?.arrayValue.map { $0["linkId"] } == [1, 2])
            #expect(adopted["programs"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 } == programIDs)

            try veth.sendUDP(to: veth.hostAddress, port: port, count: 20, fromPeer: true)
            try veth.sendUDP(to: veth.peerAddress, port: port, count: 10, fromPeer: false)
            #expect(try settle(atLeast: 65) { try client.counter("tc", "tc_packets", 0) } == 65)
            #expect(try settle(atLeast: 40) { try client.counter("tc", "tc_packets", 1) } == 40)

            // An adopted filter outlives a graceful stop too, and is adopted again.
            try server.restart(after: SIGTERM)
            client = try server.client()
            expectAdoptedAndRunning(try client.call("probe.get", ["probe": "tc"]))
            try veth.sendUDP(to: veth.hostAddress, port: port, count: 5, fromPeer: true)
            #expect(try settle(atLeast: 70) { try client.counter("tc", "tc_packets", 0) } == 70)

            // Detach removes the egress filter from the qdisc; unload the ingress one.
            try client.call("probe.detach", ["probe": "tc", "linkId": 2])
            #expect(try !tcFilters(veth.hostSide, "egress").contains("bpf"))
            #expect(try tcFilters(veth.hostSide, "ingress").contains("pref 9 bpf"))
            try client.call("probe.unload", ["probe": "tc"])
            #expect(try tcFilters(veth.hostSide, "ingress").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            #expect(try tcFilters(veth.hostSide, "egress").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            for id in programIDs { #expect(try Bpftool.isGone("prog", id: id)) }
            #expect(server.pins().isEmpty)
        }
    }

    @Test func eachLinkSaysWhetherItIsAttachedMissingOrFailed() async throws {
        let veth = try VethPair.create()
        defer { veth.remove() }
        let doomed = try VethPair.create()
        defer { doomed.remove() }
        try await withServer { server in
            var client = try server.client()
            try client.load("tc_count", as: "tc", globals: ["target_port": 1])
            try client.call("probe.attach", [
                "probe": "tc", "program": "count_tc_ingress",
                "target": ["type": "tc", "interface": .string(veth.hostSide), "direction": "ingress", "priority": 9],
            ])
            try client.call("probe.attach", [
                "probe": "tc", "program": "count_tc_egress",
                "target": ["type": "tc", "interface": .string(veth.hostSide), "direction": "egress", "priority": 7],
            ])
            try client.load("xdp_count", as: "xdp", globals: ["target_port": 1])
            let xdp = try client.call("probe.attach", [
                "probe": "xdp", "program": "count_xdp", "target": ["type": "xdp", "interface": .string(doomed.hostSide), "mode": "generic"],
            ])
            #expect(xdp["state"] == "attached")
            #expect(xdp["ids"] == [xdp["id"]!])

            // The interface goes: the link stays, attached to nothing.
            doomed.remove()
            let missing = try #require(try client.call("probe.get", ["probe": "xdp"])["links"]?.arrayValue.first)
            #expect(missing["state"] == "missing")
            #expect(missing["stateReason"]?.stringValue?.contains("interface") == true)

            // A filter removed behind bpfleetd's back cannot be taken over.
            server.terminate(signal: SIGKILL)
            try mustRun(tcTool, ["filter", "del", "dev", veth.hostSide, "egress", "pref", "7"])
            try server.restart(after: SIGKILL)
            client = try server.client()
            let degraded = try client.call("probe.get", ["probe": "tc"])
            #expect(degraded["state"] == "degraded")
            let links = degraded["links"]?.arrayValue ?? []
            #expect(links.map { $0["linkId"] } == [1, 2])
            #expect(links.map { $0["state"] } == ["attached", "failed"])
            #expect(links.last?["stateReason"]?.stringValue?.contains("priority 7") == true)

            try client.call("probe.detach", ["probe": "tc", "linkId": 2])
            #expect(try client.call("probe.get", ["probe": "tc"])["state"] == "running")
            try client.call("probe.unload", ["probe": "tc"])
            try client.call("probe.unload", ["probe": "xdp"])
            #expect(try tcFilters(veth.hostSide, "ingress").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            #expect(try Bpftool.isGone("link", id: xdp["id"]!.uint64Value!.asUInt32))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func xdpAndCgroupLinksAreAdoptedAndCountExactly() async throws {
        let veth = try VethPair.create()
        defer { veth.remove() }
        let cgroup = try TestCgroup.create()
        defer { cgroup.remove() }
        try await withServer { server in
            var client = try server.client()
            let port = Int.random(in: 20000...40000)
            try client.load("xdp_count", as: "xdp", globals: ["target_port": .int(Int64(port))])
            let xdp = try client.call("probe.attach", [
                "probe": "xdp", "program": "count_xdp", "target": ["type": "xdp", "interface": .string(veth.hostSide), "mode": "generic"],
            ])
            try client.load("cgroup_count", as: "cg", globals: ["target_port": .int(Int64(port))])
            let egress = try client.call("probe.attach", [
                "probe": "cg", "program": "count_egress", "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "egress"],
            ])
            let sendFromCgroup = { (count: Int) in
                try cgroup.runPython("""
                    import socket
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    for _ in range(\(count)): s.sendto(b"x", ("127.0.0.1", \(port)))
                    """)
            }
            try veth.sendUDP(to: veth.hostAddress, port: port, count: 30, fromPeer: true)
            try sendFromCgroup(12)
            #expect(try settle(atLeast: 30) { try client.counter("xdp", "xdp_packets", 0) } == 30)
            #expect(try client.counter("cg", "cgroup_counts", 0) == 12)

            server.terminate(signal: SIGKILL)
            try server.restart(after: SIGKILL)
            client = try server.client()
            let adoptedXDP = try client.call("probe.get", ["probe": "xdp"])
            let adoptedCgroup = try client.call("probe.get", ["probe": "cg"])
            expectAdoptedAndRunning(adoptedXDP)
            expectAdoptedAndRunning(adoptedCgroup)
            #expect(adoptedXDP["links"]?.arrayValue.first?["id"] == xdp["id"])
            #expect(adoptedCgroup["links"]?.arrayValue.first?["id"] == egress["id"])

            try veth.sendUDP(to: veth.hostAddress, port: port, count: 25, fromPeer: true)
            try sendFromCgroup(8)
            #expect(try settle(atLeast: 55) { try client.counter("xdp", "xdp_packets", 0) } == 55)
            #expect(try client.counter("cg", "cgroup_counts", 0) == 20)

            try client.call("probe.unload", ["probe": "xdp"])
            try client.call("probe.unload", ["probe": "cg"])
            for link in [xdp, egress] { #expect(try Bpftool.isGone("link", id: link["id"]!.uint64Value!.asUInt32)) }
            #expect(server.pins().isEmpty)
        }
    }
}

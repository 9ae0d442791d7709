import BpfleetShared
import Foundation
import TestSupport
import Testing

/// XDP and tc on a veth pair between bpfleetd's network namespace and one
/// the test makes: exact packet counts, bpftool as the witness, and nothing
/// left behind.
@Suite(.requiresKernel)
struct NetworkTargetTests {
    private func counter(_ client: LineClient, _ probe: String, _ map: String, _ index: Int) throws -> UInt64 {
        try client.call("map.lookup", ["map": ["probe": .string(probe), "name": .string(map)], "key": .int(Int64(index))])["value"]?.uint64Value ?? 0
    }

    @Test func xdpCountsExactlyThePacketsSentInNativeAndGenericMode() async throws {
        let veth = try VethPair.create()
        defer { veth.remove() }
        try await withServer { server in
            let client = try server.client()
            let port = Int.random(in: 20000...40000)
            let probe = try client.load("xdp_count", as: "xdp", globals: ["target_port": .int(Int64(port))])
            let programID = try #require(probe["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32

            let native = try client.call("probe.attach", [
                "probe": "xdp", "program": "count_xdp",
                "target": ["type": "xdp", "interface": .string(veth.hostSide), "mode": "native"],
            ])
            let nativeID = try #require(native["id"]?.uint64Value).asUInt32
            let shown = try #require(try Bpftool.show("link", id: nativeID))
            #expect(shown["type"] as? String == "xdp")
            #expect(shown["prog_id"] as? Int == Int(programID))
            // bpftool 7.1 (Debian 12) prints an XDP link's ifindex only when it knows it.
            if let ifindex = shown["ifindex"] as? Int { #expect(ifindex == Int(if_nametoindex(veth.hostSide))) }
            #expect(native["target"] == ["type": "xdp", "interface": .string(veth.hostSide), "mode": "native"])

            try veth.sendUDP(to: veth.hostAddress, port: port, count: 100, fromPeer: true)
            #expect(try settle(atLeast: 100) { try counter(client, "xdp", "xdp_packets", 0) } == 100)

            // A second XDP program on the same interface is refused, naming it.
            let busy = try client.callError("probe.attach", [
                "probe": "xdp", "program": "count_xdp", "target": ["type": "xdp", "interface": .string(veth.hostSide)],
            ])
            #expect(busy.code == .attachFailed)
            #expect(busy.message.contains(veth.hostSide))

            try client.call("probe.detach", ["probe": "xdp", "linkId": native["linkId"]!])
            #expect(try Bpftool.isGone("link", id: nativeID))

            let generic = try client.call("probe.attach", [
                "probe": "xdp", "program": "count_xdp",
                "target": ["type": "xdp", "interface": .string(veth.hostSide), "mode": "generic"],
            ])
            try veth.sendUDP(to: veth.hostAddress, port: port, count: 50, fromPeer: true)
            #expect(try settle(atLeast: 150) { try counter(client, "xdp", "xdp_packets", 0) } == 150)

            try client.call("probe.unload", ["probe": "xdp"])
            #expect(try Bpftool.isGone("link", id: generic["id"]!.uint64Value!.asUInt32))
            #expect(try Bpftool.isGone("prog", id: programID))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func tcCountsIngressAndEgressSeparately() async throws {
        let veth = try VethPair.create()
        defer { veth.remove() }
        try await withServer { server in
            let client = try server.client()
            let port = Int.random(in: 20000...40000)
            let probe = try client.load("tc_count", as: "tc", globals: ["target_port": .int(Int64(port))])
            let programIDs = probe["programs"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 }
            let info = try client.call("node.info")
            let tcx = info["tcx"] == .bool(true)

            // Ingress without a priority: a tcx link where the kernel has
            // them. Egress with a priority: a classic filter on clsact.
            let ingress = try client.call("probe.attach", [
                "probe": "tc", "program": "count_tc_ingress",
                "target": ["type": "tc", "interface": .string(veth.hostSide), "direction": "ingress"],
            ])
            let ingressID = try #require(ingress["id"]?.uint64Value).asUInt32
            if tcx {
                // Older bpftool prints a link type it does not know by number (BPF_LINK_TYPE_TCX = 11).
                let shown = try #require(try Bpftool.show("link", id: ingressID))
                #expect(shown["type"] as? String == "tcx" || shown["type"] as? Int == 11)
                #expect(shown["prog_id"] as? Int == Int(programIDs[0]))
            } else {
                #expect(ingressID == 0)
            }
            let egress = try client.call("probe.attach", [
                "probe": "tc", "program": "count_tc_egress",
                "target": ["type": "tc", "interface": .string(veth.hostSide), "direction": "egress", "priority": 7],
            ])
            #expect(egress["id"] == 0)  // a clsact filter is not a link
            #expect(try tcFilters(veth.hostSide, "egress").contains("pref 7 bpf"))
            #expect(try tcFilters(veth.hostSide, "egress").contains("id \(programIDs[1]) "))
            #expect(server.pins().contains("tc/links/2"))  // the filter's program, pinned

            try veth.sendUDP(to: veth.hostAddress, port: port, count: 40, fromPeer: true)   // in through the host side
            try veth.sendUDP(to: veth.peerAddress, port: port, count: 30, fromPeer: false)  // out through it
            #expect(try settle(atLeast: 40) { try counter(client, "tc", "tc_packets", 0) } == 40)
            #expect(try settle(atLeast: 30) { try counter(client, "tc", "tc_packets", 1) } == 30)

            try client.call("probe.unload", ["probe": "tc"])
            if tcx { #expect(try Bpftool.isGone("link", id: ingressID)) }
            #expect(try !tcFilters(veth.hostSide, "egress").contains("bpf"))
            for id in programIDs { #expect(try Bpftool.isGone("prog", id: id)) }
            #expect(server.pins().isEmpty)
        }
    }

    @Test func networkTargetsRefuseWrongProgramsAndMissingInterfaces() async throws {
        let veth = try VethPair.create()
        defer { veth.remove() }
        try await withServer { server in
            let client = try server.client()
            try client.load("tc_count", as: "tc", globals: ["target_port": 1])
            try client.load("xdp_count", as: "xdp", globals: ["target_port": 1])

            let wrongType = try client.callError("probe.attach", [
                "probe": "tc", "program": "count_tc_ingress", "target": ["type": "xdp", "interface": .string(veth.hostSide)],
            ])
            #expect(wrongType.code == .invalidParams)
            #expect(wrongType.data?["field"] == "target.type")

            let missing = try client.callError("probe.attach", [
                "probe": "xdp", "program": "count_xdp", "target": ["type": "xdp", "interface": "bfnosuchif0"],
            ])
            #expect(missing.code == .invalidParams)
            #expect(missing.data?["field"] == "target.interface")
            #expect(missing.message.contains("bfnosuchif0"))

            let badMode = try client.callError("probe.attach", [
                "probe": "xdp", "program": "count_xdp", "target": ["type": "xdp", "interface": .string(veth.hostSide), "mode": "turbo"],
            ])
            #expect(badMode.data?["field"] == "target.mode")

            let badDirection = try client.callError("probe.attach", [
                "probe": "tc", "program": "count_tc_ingress",
                "target": ["type": "tc", "interface": .string(veth.hostSide), "direction": "sideways"],
            ])
            #expect(badDirection.data?["field"] == "target.direction")
            #expect(try client.call("probe.get", ["probe": "tc"])["links"] == [])
        }
    }
}

let tcTool = ["/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "tc"

/// `tc filter show dev IFACE ingress|egress`, as text.
func tcFilters(_ interface: String, _ direction: String) throws -> String {
    try mustRun(tcTool, ["filter", "show", "dev", interface, direction])
}

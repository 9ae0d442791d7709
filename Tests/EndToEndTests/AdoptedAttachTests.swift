import BpfleetShared
import Foundation
import TestSupport
import Testing

/// New links on an adopted probe: after a kill -9 and a restart, the
/// probe's programs are held by their pins' descriptors, and every target
/// attaches by descriptor (Attacher) with the same counts,
/// kernel links, pins and errors as on a freshly loaded probe; those links
/// are adopted again after another kill -9, and detach or unload leaves
/// nothing (docs/state-and-pins.md).
@Suite(.requiresKernel)
struct AdoptedAttachTests {
    private func attach(_ client: LineClient, _ probe: String, _ program: String, _ target: JSONValue) throws -> JSONValue {
        try client.call("probe.attach", ["probe": .string(probe), "program": .string(program), "target": target])
    }

    private func linkID(_ link: JSONValue) throws -> UInt32 {
        try #require(link["id"]?.uint64Value).asUInt32
    }

    /// Every probe adopted, running, each link attached, with these kernel ids.
    private func expectAdopted(_ client: LineClient, _ probes: [String], ids: [String: [JSONValue]]) throws {
        for name in probes {
            let probe = try client.call("probe.get", ["probe": .string(name)])
            #expect(probe["origin"] == "adopted", "\(name)")
            #expect(probe["state"] == "running", "\(name)")
            #expect(probe["restoreError"] == nil, "\(name)")
            let links = probe["links"]?.arrayValue ?? []
            for link in links { #expect(link["state"] == "attached", "\(name) link \(link["linkId"] ?? .null)") }
            if let expected = ids[name] { #expect(links.map { $0["ids"] ?? .null } == expected, "\(name)") }
        }
    }

    @Test func xdpTcAndCgroupAttachToAdoptedProbesAndAreAdoptedAgain() async throws {
        let veth = try VethPair.create()
        defer { veth.remove() }
        let cgroup = try TestCgroup.create()
        defer { cgroup.remove() }
        try await withServer { server in
            var client = try server.client()
            let port = Int.random(in: 20000...40000)
            let globals: [String: JSONValue] = ["target_port": .int(Int64(port))]
            let xdpProbe = try client.load("xdp_count", as: "xdp", globals: globals)
            let tcProbe = try client.load("tc_count", as: "tc", globals: globals)
            let cgProbe = try client.load("cgroup_count", as: "cg", globals: globals)
            let programIDs = [xdpProbe, tcProbe, cgProbe].flatMap { $0["programs"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 } }
            let tcPrograms = tcProbe["programs"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 }
            let tcx = try client.call("node.info")["tcx"] == .bool(true)

            server.terminate(signal: SIGKILL)
            try server.restart(after: SIGKILL)
            client = try server.client()
            try expectAdopted(client, ["xdp", "tc", "cg"], ids: [:])

            // New links, by descriptor.
            let xdp = try attach(client, "xdp", "count_xdp", ["type": "xdp", "interface": .string(veth.hostSide), "mode": "generic"])
            #expect(try Bpftool.show("link", id: linkID(xdp))?["type"] as? String == "xdp")
            #expect(try Bpftool.show("link", id: linkID(xdp))?["prog_id"] as? Int == Int(programIDs[0]))
            let ingress = try attach(client, "tc", "count_tc_ingress", ["type": "tc", "interface": .string(veth.hostSide), "direction": "ingress"])
            if tcx {
                let shown = try #require(try Bpftool.show("link", id: linkID(ingress)))
                #expect(shown["type"] as? String == "tcx" || shown["type"] as? Int == 11)
                #expect(shown["prog_id"] as? Int == Int(tcPrograms[0]))
            } else {
                #expect(ingress["id"] == 0)
            }
            let egress = try attach(client, "tc", "count_tc_egress",
                                    ["type": "tc", "interface": .string(veth.hostSide), "direction": "egress", "priority": 7])
            #expect(egress["id"] == 0)  // a clsact filter is not a link
            #expect(try tcFilters(veth.hostSide, "egress").contains("pref 7 bpf"))
            #expect(try tcFilters(veth.hostSide, "egress").contains("id \(tcPrograms[1]) "))
            let cg = try attach(client, "cg", "count_egress", ["type": "cgroup", "path": .string(cgroup.path), "attachType": "egress"])
            #expect(try Bpftool.show("link", id: linkID(cg))?["type"] as? String == "cgroup")
            #expect(server.pins().contains("xdp/links/1") && server.pins().contains("tc/links/1") && server.pins().contains("tc/links/2")
                    && server.pins().contains("cg/links/1"))

            // The same validation and errors as a fresh probe's.
            let busy = try client.callError("probe.attach", [
                "probe": "xdp", "program": "count_xdp", "target": ["type": "xdp", "interface": .string(veth.hostSide), "mode": "generic"],
            ])
            #expect(busy.code == .attachFailed)
            #expect(busy.message.contains("already has an XDP program"))
            let badMode = try client.callError("probe.attach", [
                "probe": "xdp", "program": "count_xdp", "target": ["type": "xdp", "interface": .string(veth.hostSide), "mode": "sideways"],
            ])
            #expect(badMode.data?["field"] == "target.mode")
            let noInterface = try client.callError("probe.attach", [
                "probe": "tc", "program": "count_tc_ingress", "target": ["type": "tc", "interface": "bfnosuch0", "direction": "ingress"],
            ])
            #expect(noInterface.data?["field"] == "target.interface")
            let badDirection = try client.callError("probe.attach", [
                "probe": "tc", "program": "count_tc_ingress", "target": ["type": "tc", "interface": .string(veth.hostSide), "direction": "up"],
            ])
            #expect(badDirection.data?["field"] == "target.direction")
            let wrongHook = try client.callError("probe.attach", [
                "probe": "cg", "program": "count_egress", "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "ingress"],
            ])
            #expect(wrongHook.data?["field"] == "target.attachType")

            let sendFromCgroup = { (count: Int) in
                try cgroup.runPython("""
                    import socket
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    for _ in range(\(count)): s.sendto(b"x", ("127.0.0.1", \(port)))
                    """)
            }
            try veth.sendUDP(to: veth.hostAddress, port: port, count: 40, fromPeer: true)
            try veth.sendUDP(to: veth.peerAddress, port: port, count: 30, fromPeer: false)
            try sendFromCgroup(12)
            #expect(try settle(atLeast: 40) { try client.counter("xdp", "xdp_packets", 0) } == 40)
            #expect(try settle(atLeast: 40) { try client.counter("tc", "tc_packets", 0) } == 40)
            #expect(try settle(atLeast: 30) { try client.counter("tc", "tc_packets", 1) } == 30)
            #expect(try client.counter("cg", "cgroup_counts", 0) == 12)

            // Adopted again, the same kernel links, counting on.
            let ids: [String: [JSONValue]] = [
                "xdp": [xdp["ids"]!], "tc": [ingress["ids"]!, egress["ids"]!], "cg": [cg["ids"]!],
            ]
            server.terminate(signal: SIGKILL)
            try server.restart(after: SIGKILL)
            client = try server.client()
            try expectAdopted(client, ["xdp", "tc", "cg"], ids: ids)
            try veth.sendUDP(to: veth.hostAddress, port: port, count: 25, fromPeer: true)
            try veth.sendUDP(to: veth.peerAddress, port: port, count: 10, fromPeer: false)
            try sendFromCgroup(8)
            #expect(try settle(atLeast: 65) { try client.counter("xdp", "xdp_packets", 0) } == 65)
            #expect(try settle(atLeast: 65) { try client.counter("tc", "tc_packets", 0) } == 65)
            #expect(try settle(atLeast: 40) { try client.counter("tc", "tc_packets", 1) } == 40)
            #expect(try client.counter("cg", "cgroup_counts", 0) == 20)

            // Detach ends a link or removes a filter; unload the rest.
            try client.call("probe.detach", ["probe": "xdp", "linkId": 1])
            #expect(try Bpftool.isGone("link", id: linkID(xdp)))
            try client.call("probe.detach", ["probe": "tc", "linkId": 2])
            #expect(try !tcFilters(veth.hostSide, "egress").contains("bpf"))
            try client.call("probe.detach", ["probe": "cg", "linkId": 1])
            #expect(try Bpftool.isGone("link", id: linkID(cg)))
            try sendFromCgroup(3)
            #expect(try client.counter("cg", "cgroup_counts", 0) == 20)
            for probe in ["xdp", "tc", "cg"] { try client.call("probe.unload", ["probe": .string(probe)]) }
            if tcx { #expect(try Bpftool.isGone("link", id: linkID(ingress))) }
            #expect(try tcFilters(veth.hostSide, "ingress").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            #expect(try tcFilters(veth.hostSide, "egress").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            for id in programIDs { #expect(try Bpftool.isGone("prog", id: id)) }
            #expect(server.pins().isEmpty)
        }
    }

    @Test func tpBtfPerfEventAndUprobesAttachToAdoptedProbesAndAreAdoptedAgain() async throws {
        let target = try UprobeTarget.build()
        defer { target.remove() }
        let binary = try Workload.uniqueBinary()
        defer { binary.cleanup() }
        try await withServer { server in
            var client = try server.client()
            let loaded = [
                try client.load("tp_btf_count", as: "btf"), try client.load("perf_count", as: "perf"),
                try client.load("uprobe_count", as: "calls"), try client.load("uprobe_count", as: "returns"),
            ]
            let programIDs = loaded.flatMap { $0["programs"]!.arrayValue.compactMap { $0["id"]?.uint64Value?.asUInt32 } }
            let perfProgram = try #require(loaded[1]["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32

            server.terminate(signal: SIGKILL)
            try server.restart(after: SIGKILL)
            client = try server.client()
            try expectAdopted(client, ["btf", "perf", "calls", "returns"], ids: [:])

            // tp_btf: the section's name may repeat, not change.
            let wrongName = try client.callError("probe.attach", [
                "probe": "btf", "program": "count_exec_btf", "target": ["type": "tp_btf", "name": "sched_switch"],
            ])
            #expect(wrongName.code == .invalidParams)
            #expect(wrongName.data?["field"] == "target.name")
            let btf = try attach(client, "btf", "count_exec_btf", ["type": "tp_btf", "name": "sched_process_exec"])
            #expect(try Bpftool.show("link", id: linkID(btf))?["type"] as? String == "raw_tracepoint")
            try Workload.exec(binary.path, times: 15)
            #expect(try client.counter("btf", "btf_exec_counts", ["comm": .string(binary.comm)]) == 15)

            // perf_event: a link per CPU, pinned links/1/cpuN.
            let perf = try attach(client, "perf", "count_sample", ["type": "perf_event", "event": "cpu-clock", "frequency": 200])
            let cpus = onlineCPUCount()
            let perfLinks = Set(try bpftoolLinks().filter { ($0["prog_id"] as? Int) == Int(perfProgram) && $0["type"] as? String == "perf_event" }
                .compactMap { $0["id"] as? Int })
            #expect(perfLinks.count == cpus)
            #expect(Set(perf["ids"]?.arrayValue.compactMap { $0.uint64Value.map(Int.init) } ?? []) == perfLinks)
            #expect(server.pins().filter { $0.hasPrefix("perf/links/1/cpu") }.count == cpus)
            #expect(try settle(atLeast: 1) {
                try client.snapshot("perf", "samples").first?["value"]?.arrayValue.compactMap(\.uint64Value).reduce(0, +) ?? 0
            } > 0)
            let badEvent = try client.callError("probe.attach", [
                "probe": "perf", "program": "count_sample", "target": ["type": "perf_event", "event": "no-such-event", "frequency": 10],
            ])
            #expect(badEvent.data?["field"] == "target.event")

            // uprobe by symbol (its file offset read from the ELF symbol
            // table), then by offset, and a uretprobe.
            let bySymbol = try attach(client, "calls", "count_call",
                                      ["type": "uprobe", "binary": .string(target.path), "symbol": .string(UprobeTarget.symbol)])
            #expect(try Bpftool.show("link", id: linkID(bySymbol))?["type"] as? String == "perf_event")
            try target.call(times: 7)
            #expect(try client.counter("calls", "uprobe_calls", 0) == 7)
            try client.call("probe.detach", ["probe": "calls", "linkId": bySymbol["linkId"]!])
            #expect(try Bpftool.isGone("link", id: linkID(bySymbol)))
            let byOffset = try attach(client, "calls", "count_call", ["type": "uprobe", "binary": .string(target.path), "offset": .uint(target.fileOffset())])
            try target.call(times: 5)
            #expect(try client.counter("calls", "uprobe_calls", 0) == 12)
            let returns = try attach(client, "returns", "count_call",
                                     ["type": "uprobe", "binary": .string(target.path), "symbol": .string(UprobeTarget.symbol), "retprobe": true])
            try target.call(times: 9)
            #expect(try client.counter("returns", "uprobe_calls", 0) == 9)
            #expect(try client.counter("calls", "uprobe_calls", 0) == 21)

            let noSymbol = try client.callError("probe.attach", [
                "probe": "calls", "program": "count_call",
                "target": ["type": "uprobe", "binary": .string(target.path), "symbol": "no_such_function_here"],
            ])
            #expect(noSymbol.code == .attachFailed)
            #expect(noSymbol.message.contains("no_such_function_here"))
            let noBinary = try client.callError("probe.attach", [
                "probe": "calls", "program": "count_call", "target": ["type": "uprobe", "binary": "/nonexistent/bpfleet-binary", "symbol": "main"],
            ])
            #expect(noBinary.data?["field"] == "target.binary")
            // usdt by descriptor needs libbpf's USDT spec map in the object
            // (UserTargetTests attaches a USDT program of an adopted probe).
            let usdt = try client.callError("probe.attach", [
                "probe": "calls", "program": "count_call",
                "target": ["type": "usdt", "binary": .string(target.path), "provider": "bpfleet", "name": "tick"],
            ])
            #expect(usdt.code == .attachFailed)
            #expect(usdt.message == "program 'count_call' is not a libbpf USDT program: its object has no __bpf_usdt_specs map of libbpf 1.1's layout (an array of 208-byte specs)")

            // Adopted again: the same kernel links, counting on.
            let ids: [String: [JSONValue]] = [
                "btf": [btf["ids"]!], "perf": [perf["ids"]!], "calls": [byOffset["ids"]!], "returns": [returns["ids"]!],
            ]
            server.terminate(signal: SIGKILL)
            try server.restart(after: SIGKILL)
            client = try server.client()
            try expectAdopted(client, ["btf", "perf", "calls", "returns"], ids: ids)
            try Workload.exec(binary.path, times: 4)
            #expect(try client.counter("btf", "btf_exec_counts", ["comm": .string(binary.comm)]) == 19)
            try target.call(times: 3)
            #expect(try client.counter("calls", "uprobe_calls", 0) == 24)
            #expect(try client.counter("returns", "uprobe_calls", 0) == 12)

            try client.call("probe.detach", ["probe": "perf", "linkId": 1])
            for id in perfLinks { #expect(try Bpftool.isGone("link", id: UInt32(id))) }
            #expect(!server.pins().contains { $0.hasPrefix("perf/links/1") })
            for probe in ["btf", "perf", "calls", "returns"] { try client.call("probe.unload", ["probe": .string(probe)]) }
            for link in [btf, byOffset, returns] { #expect(try Bpftool.isGone("link", id: linkID(link))) }
            for id in programIDs { #expect(try Bpftool.isGone("prog", id: id)) }
            #expect(server.pins().isEmpty)
        }
    }

    @Test func kprobeOnAnAdoptedProbeIsRefusedNamingTheFeatureOrCounts() async throws {
        try await withServer { server in
            var client = try server.client()
            let info = try client.call("node.info")
            try client.load("kprobe_count", as: "kp")
            server.terminate(signal: SIGKILL)
            try server.restart(after: SIGKILL)
            client = try server.client()
            try expectAdopted(client, ["kp"], ids: [:])
            let target: JSONValue = ["type": "kprobe", "function": "do_unlinkat"]
            guard info["missingFeatures"]?["kprobe"] == "CONFIG_KPROBES" else {
                // The kprobe PMU, by descriptor.
                try client.call("probe.attach", ["probe": "kp", "program": "count_kprobe", "target": target])
                let file = NSTemporaryDirectory() + "bpfleet-unlink-\(UInt32.random(in: 0...UInt32.max))"
                for _ in 0..<5 { try createFile(file); unlink(file) }
                #expect(try client.counter("kp", "kprobe_calls", 0) >= 5)
                try client.call("probe.unload", ["probe": "kp"])
                #expect(server.pins().isEmpty)
                return
            }
            for target in [target, ["type": "auto"]] {
                let error = try client.callError("probe.attach", ["probe": "kp", "program": "count_kprobe", "target": target])
                #expect(error.code == .unsupported)
                #expect(error.data?["feature"] == "CONFIG_KPROBES")
            }
            #expect(try client.call("probe.get", ["probe": "kp"])["links"] == [])
            try client.call("probe.unload", ["probe": "kp"])
            #expect(server.pins().isEmpty)
        }
    }
}

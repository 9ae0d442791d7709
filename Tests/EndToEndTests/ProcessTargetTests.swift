import BpfleetShared
import Foundation
import TestSupport
import Testing

/// uprobe, cgroup, perf_event and tp_btf targets: the kernel fires them an
/// exact number of times (perf_event: at least once per sample), and
/// bpftool sees the links the server reports.
@Suite(.requiresKernel)
struct ProcessTargetTests {
    @Test func uprobeCountsEveryCallBySymbolAndByOffset() async throws {
        let target = try UprobeTarget.build()
        defer { target.remove() }
        try await withServer { server in
            let client = try server.client()
            try client.load("uprobe_count", as: "calls")
            let bySymbol = try client.call("probe.attach", [
                "probe": "calls", "program": "count_call",
                "target": ["type": "uprobe", "binary": .string(target.path), "symbol": .string(UprobeTarget.symbol)],
            ])
            let symbolLink = try #require(bySymbol["id"]?.uint64Value).asUInt32
            #expect(try Bpftool.show("link", id: symbolLink)?["type"] as? String == "perf_event")
            try target.call(times: 7)
            #expect(try client.counter("calls", "uprobe_calls", 0) == 7)
            try client.call("probe.detach", ["probe": "calls", "linkId": bySymbol["linkId"]!])
            #expect(try Bpftool.isGone("link", id: symbolLink))

            let offset = try target.fileOffset()
            let byOffset = try client.call("probe.attach", [
                "probe": "calls", "program": "count_call",
                "target": ["type": "uprobe", "binary": .string(target.path), "offset": .uint(offset)],
            ])
            #expect(byOffset["target"]?["offset"]?.uint64Value == offset)
            try target.call(times: 5)
            #expect(try client.counter("calls", "uprobe_calls", 0) == 12)

            let noSymbol = try client.callError("probe.attach", [
                "probe": "calls", "program": "count_call",
                "target": ["type": "uprobe", "binary": .string(target.path), "symbol": "no_such_function_here"],
            ])
            #expect(noSymbol.code == .attachFailed)
            #expect(noSymbol.message.contains("no_such_function_here"))
            let noBinary = try client.callError("probe.attach", [
                "probe": "calls", "program": "count_call",
                "target": ["type": "uprobe", "binary": "/nonexistent/bpfleet-binary", "symbol": "main"],
            ])
            #expect(noBinary.code == .invalidParams)
            #expect(noBinary.data?["field"] == "target.binary")
            let both = try client.callError("probe.attach", [
                "probe": "calls", "program": "count_call",
                "target": ["type": "uprobe", "binary": .string(target.path), "symbol": "main", "offset": 16],
            ])
            #expect(both.code == .invalidParams)

            try client.call("probe.unload", ["probe": "calls"])
            #expect(try Bpftool.isGone("link", id: byOffset["id"]!.uint64Value!.asUInt32))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func cgroupProgramsCountOnlyTheirCgroup() async throws {
        let cgroup = try TestCgroup.create()
        defer { cgroup.remove() }
        try await withServer { server in
            let client = try server.client()
            let port = Int.random(in: 20000...40000)
            try client.load("cgroup_count", as: "cg", globals: ["target_port": .int(Int64(port))])
            let egress = try client.call("probe.attach", [
                "probe": "cg", "program": "count_egress", "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "egress"],
            ])
            let sockets = try client.call("probe.attach", [
                "probe": "cg", "program": "count_sock_create",
                "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "sock_create"],
            ])
            for link in [egress, sockets] {
                let shown = try #require(try Bpftool.show("link", id: link["id"]!.uint64Value!.asUInt32))
                #expect(shown["type"] as? String == "cgroup")
            }
            #expect(try Bpftool.show("link", id: egress["id"]!.uint64Value!.asUInt32)?["attach_type"] as? String == "cgroup_inet_egress")

            try cgroup.runPython("""
                import socket
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
                socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
                for _ in range(20): s.sendto(b"x", ("127.0.0.1", \(port)))
                """)
            // The same from outside the cgroup: not counted.
            try mustRun(python3, ["-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', \(port)))"])
            #expect(try client.counter("cg", "cgroup_counts", 0) == 20)
            #expect(try client.counter("cg", "cgroup_counts", 1) == 3)

            let wrongHook = try client.callError("probe.attach", [
                "probe": "cg", "program": "count_egress", "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "ingress"],
            ])
            #expect(wrongHook.code == .invalidParams)
            #expect(wrongHook.data?["field"] == "target.attachType")
            let wrongType = try client.callError("probe.attach", [
                "probe": "cg", "program": "count_sock_create", "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "egress"],
            ])
            #expect(wrongType.data?["field"] == "target.attachType")
            let unknown = try client.callError("probe.attach", [
                "probe": "cg", "program": "count_egress", "target": ["type": "cgroup", "path": .string(cgroup.path), "attachType": "sideways"],
            ])
            #expect(unknown.data?["field"] == "target.attachType")
            let noCgroup = try client.callError("probe.attach", [
                "probe": "cg", "program": "count_egress", "target": ["type": "cgroup", "path": "/sys/fs/cgroup/bpfleet-no-such", "attachType": "egress"],
            ])
            #expect(noCgroup.data?["field"] == "target.path")

            try client.call("probe.unload", ["probe": "cg"])
            for link in [egress, sockets] { #expect(try Bpftool.isGone("link", id: link["id"]!.uint64Value!.asUInt32)) }
            #expect(server.pins().isEmpty)
        }
    }

    @Test func perfEventSamplesOnEveryCPUWithOneLinkEach() async throws {
        try await withServer { server in
            let client = try server.client()
            let probe = try client.load("perf_count", as: "perf")
            let programID = try #require(probe["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
            let link = try client.call("probe.attach", [
                "probe": "perf", "program": "count_sample", "target": ["type": "perf_event", "event": "cpu-clock", "frequency": 200],
            ])
            let cpus = onlineCPUCount()
            let perfLinks = try bpftoolLinks().filter { ($0["prog_id"] as? Int) == Int(programID) }
            #expect(perfLinks.count == cpus)
            #expect(perfLinks.allSatisfy { $0["type"] as? String == "perf_event" })
            #expect(server.pins().filter { $0.hasPrefix("perf/links/1/") }.count == cpus)

            let samples = try settle(atLeast: 1) {
                try client.snapshot("perf", "samples").first?["value"]?.arrayValue.compactMap(\.uint64Value).reduce(0, +) ?? 0
            }
            #expect(samples > 0)

            let badEvent = try client.callError("probe.attach", [
                "probe": "perf", "program": "count_sample", "target": ["type": "perf_event", "event": "no-such-event", "frequency": 10],
            ])
            #expect(badEvent.data?["field"] == "target.event")
            // A hardware counter works, or is refused naming the PMU.
            let hardware = try client.request("probe.attach", [
                "probe": "perf", "program": "count_sample", "target": ["type": "perf_event", "event": "cycles", "frequency": 10],
            ])
            if let error = hardware["error"] {
                #expect(error["code"] == .int(-32008))
                #expect(error["data"]?["feature"] == "hardware perf events (PMU)")
            }

            try client.call("probe.detach", ["probe": "perf", "linkId": link["linkId"]!])
            #expect(try bpftoolLinks().filter { ($0["prog_id"] as? Int) == Int(programID) && $0["type"] as? String == "perf_event" }.count
                    == (hardware["result"] == nil ? 0 : cpus))
            #expect(!server.pins().contains("perf/links/1"))
            try client.call("probe.unload", ["probe": "perf"])
            #expect(try Bpftool.isGone("prog", id: programID))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func tpBtfCountsEveryExec() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("tp_btf_count", as: "btf")
            let wrongName = try client.callError("probe.attach", [
                "probe": "btf", "program": "count_exec_btf", "target": ["type": "tp_btf", "name": "sched_switch"],
            ])
            #expect(wrongName.code == .invalidParams)
            #expect(wrongName.data?["field"] == "target.name")

            let link = try client.call("probe.attach", ["probe": "btf", "program": "count_exec_btf", "target": ["type": "tp_btf"]])
            // A tp_btf program attaches through a raw tracepoint link.
            #expect(try Bpftool.show("link", id: link["id"]!.uint64Value!.asUInt32)?["type"] as? String == "raw_tracepoint")
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 15)
            #expect(try client.counter("btf", "btf_exec_counts", ["comm": .string(binary.comm)]) == 15)

            // The name may repeat the section's.
            let again = try client.call("probe.attach", [
                "probe": "btf", "program": "count_exec_btf", "target": ["type": "tp_btf", "name": "sched_process_exec"],
            ])
            try Workload.exec(binary.path, times: 2)
            #expect(try client.counter("btf", "btf_exec_counts", ["comm": .string(binary.comm)]) == 19)
            try client.call("probe.unload", ["probe": "btf"])
            #expect(try Bpftool.isGone("link", id: again["id"]!.uint64Value!.asUInt32))
            #expect(server.pins().isEmpty)
        }
    }
}

func onlineCPUCount() -> Int {
    let text = (try? String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)) ?? "0"
    return text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").reduce(0) { count, range in
        let bounds = range.split(separator: "-").compactMap { Int($0) }
        return count + (bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 1)
    }
}

func bpftoolLinks() throws -> [[String: Any]] {
    let result = try run(Bpftool.path, ["-j", "link", "show"])
    return (try? JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]]) ?? []
}

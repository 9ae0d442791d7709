import BpfleetShared
import Foundation
import TestSupport
import Testing

/// User-space targets beyond the plain uprobe: a USDT probe, a uretprobe,
/// and a uprobe limited to one process; exact counts, and nothing left.
@Suite(.requiresKernel)
struct UserTargetTests {
    @Test func usdtCountsEveryHitAndReadsItsArgument() async throws {
        let target = try USDTTarget.build()
        defer { target.remove() }
        try await withServer { server in
            var client = try server.client()
            let probe = try client.load("usdt_count", as: "usdt")
            let programID = try #require(probe["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
            let link = try client.call("probe.attach", [
                "probe": "usdt", "program": "count_usdt",
                "target": ["type": "usdt", "binary": .string(target.path), "provider": "bpfleet", "name": "tick"],
            ])
            #expect(link["state"] == "attached")
            let linkID = try #require(link["id"]?.uint64Value).asUInt32
            #expect(try Bpftool.show("link", id: linkID)?["prog_id"] as? Int == Int(programID))

            try target.call(times: 12)
            #expect(try client.counter("usdt", "usdt_hits", 0) == 12)
            #expect(try client.counter("usdt", "usdt_hits", 1) == 78)  // 1 + 2 + ... + 12: the probe's argument

            let noProbe = try client.callError("probe.attach", [
                "probe": "usdt", "program": "count_usdt",
                "target": ["type": "usdt", "binary": .string(target.path), "provider": "bpfleet", "name": "no_such_probe"],
            ])
            #expect(noProbe.code == .attachFailed || noProbe.code == .invalidParams, "\(noProbe)")

            // libbpf's USDT link has no descriptor; its kernel links (one
            // per call site) are pinned, so the probe outlives bpfleetd.
            let ids = link["ids"]?.arrayValue ?? []
            #expect(!ids.isEmpty && ids.first == link["id"])
            try server.restart(after: SIGKILL)
            client = try server.client()
            let adopted = try client.call("probe.get", ["probe": "usdt"])
            #expect(adopted["origin"] == "adopted")
            #expect(adopted["state"] == "running")
            #expect(adopted["links"]?.arrayValue.first?["ids"]?.arrayValue == ids)
            try target.call(times: 3)
            #expect(try client.counter("usdt", "usdt_hits", 0) == 15)
            #expect(try client.counter("usdt", "usdt_hits", 1) == 84)

            // Adopted, its program attaches to usdt again, by descriptor:
            // bpfleetd reads the notes and writes the argument specs.
            let again = try client.call("probe.attach", [
                "probe": "usdt", "program": "count_usdt",
                "target": ["type": "usdt", "binary": .string(target.path), "provider": "bpfleet", "name": "tick"],
            ])
            #expect(again["state"] == "attached")
            let againIDs = again["ids"]?.arrayValue.compactMap { $0.uint64Value.map { UInt32($0) } } ?? []
            #expect(againIDs.count == ids.count)
            for id in againIDs { #expect(try Bpftool.show("link", id: id)?["prog_id"] as? Int == Int(programID)) }
            try target.call(times: 4)  // both links count each hit, and read its argument
            #expect(try client.counter("usdt", "usdt_hits", 0) == 23)
            #expect(try client.counter("usdt", "usdt_hits", 1) == 104)
            let missing = try client.callError("probe.attach", [
                "probe": "usdt", "program": "count_usdt",
                "target": ["type": "usdt", "binary": .string(target.path), "provider": "bpfleet", "name": "no_such_probe"],
            ])
            #expect(missing.code == .attachFailed)
            #expect(missing.message == "\(target.path) has no USDT probe bpfleet:no_such_probe")

            // Its pins are adopted like libbpf's.
            try server.restart(after: SIGKILL)
            client = try server.client()
            let twice = try client.call("probe.get", ["probe": "usdt"])
            #expect(twice["state"] == "running")
            #expect(twice["links"]?.arrayValue.map { $0["ids"] } == [.array(ids), .array(againIDs.map { .int(Int64($0)) })])
            try target.call(times: 2)
            #expect(try client.counter("usdt", "usdt_hits", 0) == 27)
            #expect(try client.counter("usdt", "usdt_hits", 1) == 110)
            try client.call("probe.detach", ["probe": "usdt", "linkId": again["linkId"] ?? 0])
            for id in againIDs { #expect(try Bpftool.isGone("link", id: id)) }

            try client.call("probe.unload", ["probe": "usdt"])
            #expect(try Bpftool.isGone("link", id: linkID))
            #expect(try Bpftool.isGone("prog", id: programID))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func uretprobeCountsEveryReturn() async throws {
        let target = try UprobeTarget.build()
        defer { target.remove() }
        try await withServer { server in
            let client = try server.client()
            try client.load("uprobe_count", as: "returns")
            let link = try client.call("probe.attach", [
                "probe": "returns", "program": "count_call",
                "target": ["type": "uprobe", "binary": .string(target.path), "symbol": .string(UprobeTarget.symbol), "retprobe": true],
            ])
            #expect(link["target"]?["retprobe"] == true)
            try target.call(times: 9)
            #expect(try client.counter("returns", "uprobe_calls", 0) == 9)
            try target.call(times: 4)
            #expect(try client.counter("returns", "uprobe_calls", 0) == 13)

            try client.call("probe.unload", ["probe": "returns"])
            #expect(try Bpftool.isGone("link", id: link["id"]!.uint64Value!.asUInt32))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func aUprobeWithAPIDCountsOnlyThatProcess() async throws {
        let target = try UprobeTarget.build()
        defer { target.remove() }
        try await withServer { server in
            let client = try server.client()
            try client.load("uprobe_count", as: "one")
            // A shell that waits for a line, then becomes the target: its
            // pid is known before the function runs.
            let waiting = Process()
            waiting.executableURL = URL(fileURLWithPath: "/bin/sh")
            waiting.arguments = ["-c", "read go; exec \(target.path) 7"]
            let input = Pipe()
            waiting.standardInput = input
            try waiting.run()
            defer { if waiting.isRunning { waiting.terminate() } }

            let link = try client.call("probe.attach", [
                "probe": "one", "program": "count_call",
                "target": ["type": "uprobe", "binary": .string(target.path), "symbol": .string(UprobeTarget.symbol),
                           "pid": .int(Int64(waiting.processIdentifier))],
            ])
            #expect(link["target"]?["pid"] == .int(Int64(waiting.processIdentifier)))
            // Another process calls the function: not counted.
            try target.call(times: 5)
            input.fileHandleForWriting.write(Data("go\n".utf8))
            waiting.waitUntilExit()
            #expect(waiting.terminationStatus == 0)
            #expect(try client.counter("one", "uprobe_calls", 0) == 7)
            try target.call(times: 3)
            #expect(try client.counter("one", "uprobe_calls", 0) == 7)

            try client.call("probe.unload", ["probe": "one"])
            #expect(try Bpftool.isGone("link", id: link["id"]!.uint64Value!.asUInt32))
            #expect(server.pins().isEmpty)
        }
    }
}

/// A small C program with a USDT probe `bpfleet:tick` (from <sys/sdt.h>,
/// systemtap-sdt-dev) that fires as many times as its argument says, with
/// the count so far as its argument; compiled into its own directory.
struct USDTTarget {
    let directory: String
    var path: String { directory + "/usdt_target" }

    static func build() throws -> USDTTarget {
        let directory = try temporaryDirectory("usdt")
        let source = directory + "/usdt_target.c"
        try """
            #include <stdlib.h>
            #include <sys/sdt.h>
            int main(int argc, char **argv) {
                long n = argc > 1 ? atol(argv[1]) : 0;
                for (long i = 1; i <= n; i++) DTRACE_PROBE1(bpfleet, tick, i);
                return 0;
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let cc = ["/usr/bin/cc", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "cc"
        do {
            try mustRun(cc, ["-O1", "-o", directory + "/usdt_target", source])
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw TestFailure("cannot build the USDT target (is systemtap-sdt-dev installed? scripts/setup.sh): \(error)")
        }
        return USDTTarget(directory: directory)
    }

    func call(times: Int) throws {
        try mustRun(path, [String(times)])
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `bpfleet probe get` against a real node: each link with its target,
/// every kernel link id (bpftool's), its state and its program's runs.
@Suite(.requiresKernel)
struct ProbeGetCommandTests {
    @Test func probeGetShowsEveryKernelLinkIDStateAndRuns() async throws {
        try await withServer { server in
            let node = ["-n", server.address]
            let client = try server.client()
            let probe = try client.load("perf_count", as: "perf")
            let programID = try #require(probe["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
            try client.call("probe.attach", [
                "probe": "perf", "program": "count_sample", "target": ["type": "perf_event", "event": "cpu-clock", "frequency": 200],
            ])
            let kernelIDs = try bpftoolLinks().filter { ($0["prog_id"] as? Int) == Int(programID) }.compactMap { $0["id"] as? Int }.sorted()
            #expect(kernelIDs.count == onlineCPUCount())
            // Some samples, so the program has run.
            _ = try settle(atLeast: 1) {
                try client.snapshot("perf", "samples").first?["value"]?.arrayValue.compactMap(\.uint64Value).reduce(0, +) ?? 0
            }

            let table = try bpfleet(node + ["probe", "get", "perf"])
            #expect(table.status == 0, "\(table.stderr)")
            let lines = table.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("origin") && $0.hasSuffix("loaded") })
            #expect(lines.contains { $0.hasPrefix("state") && $0.hasSuffix("running") })
            let links = Array(lines.drop { $0 != "links:" }.dropFirst())
            let header = try #require(links.first)
            #expect(header.contains("KERNEL IDS") && header.contains("STATE") && header.contains("RUNS"))
            let row = try #require(links.dropFirst().first).split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            #expect(row.first == "1")
            #expect(row.contains("perf_event:cpu-clock@200Hz"))
            #expect(row.contains(kernelIDs.map(String.init).joined(separator: ",")))
            #expect(row.last == "attached")
            // RUNS: the program's count, a number once it has run.
            #expect(row.count > 4 && UInt64(row[4]).map { $0 > 0 } == true, "\(row)")

            // json passes the node's description through.
            let json = try bpfleet(node + ["-o", "json", "probe", "get", "perf"])
            let link = try #require(json.json?.arrayValue.first?["result"]?["links"]?.arrayValue.first)
            #expect(link["ids"]?.arrayValue.compactMap { $0.uint64Value.map(Int.init) }.sorted() == kernelIDs)
            #expect(link["state"] == "attached")
            let ndjson = try bpfleet(node + ["-o", "ndjson", "probe", "get", "perf"])
            let line = try JSONDecoder().decode(JSONValue.self, from: Data(ndjson.stdout.utf8))
            #expect(line["result"]?["links"]?.arrayValue.first?["ids"] == link["ids"])

            try client.call("probe.unload", ["probe": "perf"])
            #expect(try Bpftool.isGone("prog", id: programID))
            #expect(server.pins().isEmpty)
        }
    }
}

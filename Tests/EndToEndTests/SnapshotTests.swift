import BpfleetShared
import Foundation
import TestSupport
import Testing

/// map.snapshot over many kernel batches: every entry exactly once, limits
/// and truncation exact, and bpftool agreeing on the contents.
@Suite(.requiresKernel)
struct SnapshotTests {
    @Test func largeSnapshotsAreExactAcrossBatchesAndLimits() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("big_hash", as: "big")
            let map: JSONValue = ["probe": "big", "name": "big"]
            let total = 20_000
            // Filled through JSON-RPC batches of 32 updates each (a batch
            // must fit in the connection's 64 requests in flight).
            for start in stride(from: 0, to: total, by: 32) {
                let batch = (start..<min(start + 32, total)).map { key -> JSONValue in
                    ["jsonrpc": "2.0", "id": .int(Int64(key)), "method": "map.update",
                     "params": ["map": map, "key": .int(Int64(key)), "value": .uint(UInt64(key) * 3 + (1 << 40))]]
                }
                try client.send(String(decoding: try JSONEncoder().encode(JSONValue.array(batch)), as: UTF8.self))
                let replies = try client.readReply().arrayValue
                #expect(replies.count == batch.count)
                #expect(replies.allSatisfy { $0["result"] == [:] })
            }

            let whole = try client.call("map.snapshot", ["map": map])
            #expect(whole["count"] == .int(Int64(total)))
            #expect(whole["truncated"] == false)
            let entries = whole["entries"]?.arrayValue ?? []
            #expect(entries.count == total)
            var seen = Set<Int64>()
            for entry in entries {
                guard let key = entry["key"]?.int64Value, let value = entry["value"]?.uint64Value else { continue }
                #expect(value == UInt64(key) * 3 + (1 << 40))
                seen.insert(key)
            }
            #expect(seen == Set((0..<Int64(total))))

            for (limit, truncated) in [(0, true), (10, true), (16_384, true), (total - 1, true), (total, false), (total + 1, false)] {
                let part = try client.call("map.snapshot", ["map": map, "limit": .int(Int64(limit))])
                #expect(part["entries"]?.arrayValue.count == min(limit, total), "limit \(limit)")
                #expect(part["count"] == .int(Int64(min(limit, total))), "limit \(limit)")
                #expect(part["truncated"] == .bool(truncated), "limit \(limit)")
            }

            // Hex form, checked against bpftool's own dump of the same map.
            let hex = try client.call("map.snapshot", ["map": map, "format": "hex", "limit": 5])
            let mapID = try #require(try client.call("map.list", ["probe": "big"])["maps"]?.arrayValue
                .first { $0["name"] == "big" }?["id"]?.uint64Value).asUInt32
            let bpftool = try Bpftool.dump(mapID: mapID)
            #expect(bpftool.count == total)
            let bpftoolHex = Dictionary(uniqueKeysWithValues: bpftool.compactMap { entry -> (String, String)? in
                guard let key = entry["key"] as? [String], let value = entry["value"] as? [String] else { return nil }
                return (key.map { $0.dropFirst(2) }.joined(), value.map { $0.dropFirst(2) }.joined())
            })
            for entry in hex["entries"]?.arrayValue ?? [] {
                let key = try #require(entry["key"]?.stringValue)
                #expect(key.count == 8)
                #expect(bpftoolHex[key] == entry["value"]?.stringValue)
            }
        }
    }
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// map.watch: notifications in order, deltas that rebuild the map exactly,
/// coalescing for slow readers, and ends that free what they held.
@Suite(.requiresKernel)
struct WatchTests {
    /// The next notification on `client` (skipping replies), or nil at close.
    func nextNotification(_ client: LineClient, timeout: TimeInterval = 10) throws -> JSONValue? {
        try client.nextNotification(timeout: timeout)
    }

    func watch(_ client: LineClient, _ probe: String, _ map: String, intervalMs: Int, mode: String) throws -> Int {
        let result = try client.call("map.watch", ["map": ["probe": .string(probe), "name": .string(map)],
                                                   "intervalMs": .int(Int64(intervalMs)), "mode": .string(mode)])
        return Int(try #require(result["subscription"]?.int64Value))
    }

    @Test func fullWatchFollowsACounterToItsExactEnd() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("syscall_count", as: "sys", globals: ["target_tgid": .int(Int64(getpid()))])
            let link = try client.call("probe.attach", ["probe": "sys", "program": "count_syscall", "target": ["type": "raw_tracepoint", "name": "sys_enter"]])
            let id = try watch(client, "sys", "syscalls", intervalMs: 100, mode: "full")
            // getpgid: a system call no other test in this process makes
            // (they run concurrently, and the count is by process).
            #if arch(arm64)
            let getpgid: JSONValue = 155
            #else
            let getpgid: JSONValue = 121
            #endif
            var lastSeq: Int64 = 0
            var lastCount: UInt64 = 0
            for round in 0..<5 {
                for _ in 0..<100 { _ = Glibc.getpgid(0) }
                let note = try #require(try nextNotification(client))
                #expect(note["method"] == "subscription.map")
                #expect(note["params"]?["subscription"] == .int(Int64(id)))
                let seq = try #require(note["params"]?["seq"]?.int64Value)
                #expect(seq > lastSeq, "round \(round)")
                lastSeq = seq
                let count = note["params"]?["entries"]?.arrayValue.first { $0["key"] == getpgid }?["value"]?.uint64Value ?? 0
                #expect(count >= lastCount)
                lastCount = count
            }
            // Detached, the count stops: the next notifications carry exactly 500.
            try client.call("probe.detach", ["probe": "sys", "linkId": link["linkId"]!])
            var final: UInt64 = 0
            for _ in 0..<3 {
                let note = try #require(try nextNotification(client))
                final = note["params"]?["entries"]?.arrayValue.first { $0["key"] == getpgid }?["value"]?.uint64Value ?? 0
            }
            #expect(final == 500)
        }
    }

    @Test func deltasAppliedInOrderRebuildTheMapExactly() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("big_hash", as: "big")
            let map: JSONValue = ["probe": "big", "name": "big"]
            for key in 0..<50 { try client.call("map.update", ["map": map, "key": .int(Int64(key)), "value": .int(Int64(key))]) }
            let id = try watch(client, "big", "big", intervalMs: 100, mode: "delta")
            var rebuilt: [JSONValue: JSONValue] = [:]
            var first = true
            func apply(_ note: JSONValue) {
                #expect(note["params"]?["subscription"] == .int(Int64(id)))
                if first {
                    #expect(note["params"]?["removed"] == [])
                    #expect(note["params"]?["set"]?.arrayValue.count == 50)
                    first = false
                }
                for entry in note["params"]?["set"]?.arrayValue ?? [] { rebuilt[entry["key"]!] = entry["value"]! }
                for key in note["params"]?["removed"]?.arrayValue ?? [] { rebuilt[key] = nil }
            }
            // Changes between notifications: updates, inserts, deletes.
            for round in 0..<6 {
                apply(try #require(try nextNotification(client)))
                for key in stride(from: round, to: 50, by: 7) {
                    try client.call("map.update", ["map": map, "key": .int(Int64(key)), "value": .int(Int64(1000 * round + key))])
                }
                try client.call("map.update", ["map": map, "key": .int(Int64(100 + round)), "value": 7])
                if round % 2 == 1 { try client.call("map.delete", ["map": map, "key": .int(Int64(round))]) }
            }
            // Changes stopped. Notifications may have queued while the test
            // made changes: read on until the deltas match the map (they
            // must, within a bounded number).
            let truth = try client.snapshot("big", "big")
            let expected = Dictionary(uniqueKeysWithValues: truth.map { ($0["key"]!, $0["value"]!) })
            var reads = 0
            while rebuilt != expected, reads < 100, let note = try nextNotification(client) {
                apply(note)
                reads += 1
            }
            #expect(rebuilt.count == truth.count)
            #expect(rebuilt == expected)
        }
    }

    @Test func badWatchesAndCancelsGetPreciseErrors() async throws {
        try await withServer(["--max-subscriptions", "2"]) { server in
            let client = try server.client()
            try client.load("big_hash", as: "big")
            let map: JSONValue = ["probe": "big", "name": "big"]
            #expect(try client.callError("map.watch", ["map": ["probe": "big", "name": "nope"], "intervalMs": 500]).code == .notFound)
            let fast = try client.callError("map.watch", ["map": map, "intervalMs": 10])
            #expect(fast.code == .invalidParams)
            #expect(fast.data?["field"] == "intervalMs")
            #expect(try client.callError("map.watch", ["map": map, "intervalMs": 500, "mode": "sometimes"]).code == .invalidParams)
            #expect(try client.callError("subscription.cancel", ["subscription": 999]).code == .notFound)
            let first = try watch(client, "big", "big", intervalMs: 5000, mode: "full")
            _ = try watch(client, "big", "big", intervalMs: 5000, mode: "full")
            let third = try client.callError("map.watch", ["map": map, "intervalMs": 5000])
            #expect(third.code == .limitExceeded)
            #expect(third.data?["limit"] == "maxSubscriptions")
            // Another connection cannot cancel this one's subscription.
            let other = try server.client()
            #expect(try other.callError("subscription.cancel", ["subscription": .int(Int64(first))]).code == .notFound)
            try client.call("subscription.cancel", ["subscription": .int(Int64(first))])
            let end = try #require(try nextNotification(client))
            #expect(end["method"] == "subscription.end")
            #expect(end["params"] == ["subscription": .int(Int64(first)), "reason": "cancelled"])
            _ = try watch(client, "big", "big", intervalMs: 5000, mode: "full")  // room again
        }
    }

    @Test func unloadEndsSubscriptionsAndDisconnectFreesThem() async throws {
        try await withServer { server in
            let owner = try server.client()
            let probe = try owner.load("big_hash", as: "big")
            let mapID = try #require(probe["maps"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
            // A watcher that goes away, and one that stays.
            do {
                let leaver = try server.client()
                _ = try watch(leaver, "big", "big", intervalMs: 100, mode: "full")
                _ = try nextNotification(leaver)
            }
            let stayer = try server.client()
            let id = try watch(stayer, "big", "big", intervalMs: 100, mode: "delta")
            _ = try nextNotification(stayer)
            try owner.call("probe.unload", ["probe": "big"])
            var end: JSONValue?
            while end == nil, let note = try nextNotification(stayer, timeout: 120) {
                if note["method"] == "subscription.end" { end = note }
            }
            #expect(end?["params"] == ["subscription": .int(Int64(id)), "reason": "probe unloaded"])
            // Nothing holds the map any more: the kernel frees it.
            #expect(try Bpftool.isGone("map", id: mapID))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func watchesOfOneMapShareReadingsAndAStalledOneHoldsUpNoOne() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("big_hash", as: "big")
            let map: JSONValue = ["probe": "big", "name": "big"]
            // 5,000 entries, about 150 kB a notification: the stalled
            // reader's socket takes a few, then its writes wait.
            try client.fill("big", "big", count: 5_000)
            let stalled = try server.client()
            _ = try watch(stalled, "big", "big", intervalMs: 100, mode: "full")
            // Same map, same interval: one ticker serves all three watches.
            let full = try server.client()
            let fullID = try watch(full, "big", "big", intervalMs: 100, mode: "full")
            let delta = try server.client()
            let deltaID = try watch(delta, "big", "big", intervalMs: 100, mode: "delta")
            var rebuilt: [JSONValue: JSONValue] = [:]
            var lastFull: [JSONValue] = []
            var seqs: (full: [Int64], delta: [Int64]) = ([], [])
            for round in 0..<8 {
                try client.call("map.update", ["map": map, "key": .int(Int64(round)), "value": .int(Int64(100 + round))])
                try client.call("map.delete", ["map": map, "key": .int(Int64(4_999 - round))])
                let f = try #require(try nextNotification(full), "full watch, round \(round)")
                #expect(f["params"]?["subscription"] == .int(Int64(fullID)))
                seqs.full.append(try #require(f["params"]?["seq"]?.int64Value))
                lastFull = f["params"]?["entries"]?.arrayValue ?? []
                let d = try #require(try nextNotification(delta), "delta watch, round \(round)")
                #expect(d["params"]?["subscription"] == .int(Int64(deltaID)))
                seqs.delta.append(try #require(d["params"]?["seq"]?.int64Value))
                for entry in d["params"]?["set"]?.arrayValue ?? [] { rebuilt[entry["key"]!] = entry["value"]! }
                for key in d["params"]?["removed"]?.arrayValue ?? [] { rebuilt[key] = nil }
            }
            #expect(seqs.full == seqs.full.sorted() && Set(seqs.full).count == 8, "\(seqs.full)")
            #expect(seqs.delta == seqs.delta.sorted() && Set(seqs.delta).count == 8, "\(seqs.delta)")
            // Changes stopped. Small deltas queue up in the socket while a
            // round decodes the big full notification, so read on until a
            // view matches the map (it must, within a bounded number).
            let truth = try client.snapshot("big", "big")
            #expect(truth.count == 4_992)
            let expected = Dictionary(uniqueKeysWithValues: truth.map { ($0["key"]!, $0["value"]!) })
            var deltaReads = 0
            while rebuilt != expected, deltaReads < 400, let d = try nextNotification(delta) {
                for entry in d["params"]?["set"]?.arrayValue ?? [] { rebuilt[entry["key"]!] = entry["value"]! }
                for key in d["params"]?["removed"]?.arrayValue ?? [] { rebuilt[key] = nil }
                deltaReads += 1
            }
            // Compared whole, reported by size: 5,000 entries do not print well.
            let deltaMatches = rebuilt == expected
            #expect(deltaMatches, "the deltas rebuilt \(rebuilt.count) entries; the map has \(expected.count)")
            var fullReads = 0
            func matches(_ entries: [JSONValue]) -> Bool {
                Dictionary(uniqueKeysWithValues: entries.map { ($0["key"]!, $0["value"]!) }) == expected
            }
            while !matches(lastFull), fullReads < 10, let f = try nextNotification(full) {
                lastFull = f["params"]?["entries"]?.arrayValue ?? []
                fullReads += 1
            }
            let fullMatches = matches(lastFull)
            #expect(fullMatches, "the last full notification had \(lastFull.count) entries; the map has \(expected.count)")
            // The stalled reader still gets whole notifications when it reads.
            let late = try #require(try nextNotification(stalled))
            #expect(late["method"] == "subscription.map")
        }
    }

    @Test func aReaderSlowerThanTheIntervalGetsCoalescedSnapshots() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("big_hash", as: "big")
            // 20,000 entries: about 600 KB a notification.
            try client.fill("big", "big", count: 20_000)
            let rssBefore = residentKB(server.pid)
            _ = try watch(client, "big", "big", intervalMs: 100, mode: "full")
            sleep(4)  // 40 intervals, and this client reads nothing
            let rssStalled = residentKB(server.pid)
            var seqs: [Int64] = []
            for _ in 0..<12 {
                if let seq = try nextNotification(client, timeout: 10)?["params"]?["seq"]?.int64Value { seqs.append(seq) }
            }
            #expect(seqs == seqs.sorted())
            // Skipped intervals show as gaps in seq.
            #expect(zip(seqs, seqs.dropFirst()).contains { $1 - $0 > 1 })
            // The server held a notification or two, not forty.
            #expect(rssStalled - rssBefore < 64 * 1024, "\(rssBefore) kB -> \(rssStalled) kB")
        }
    }
}

func residentKB(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
}

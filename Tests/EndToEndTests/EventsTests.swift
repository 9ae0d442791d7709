import BpfleetShared
import Foundation
import TestSupport
import Testing

/// events.subscribe: exact records in order, counted losses, precise errors.
@Suite(.requiresKernel)
struct EventsTests {
    func nextNotification(_ client: LineClient, timeout: TimeInterval = 10) throws -> JSONValue? {
        try client.nextNotification(timeout: timeout)
    }

    /// Records until `count` have come (or the stream goes quiet).
    func records(_ client: LineClient, count: Int) throws -> (records: [JSONValue], lost: Int64) {
        var records: [JSONValue] = []
        var lost: Int64 = 0
        while records.count < count, let note = try nextNotification(client, timeout: 10) {
            guard note["method"] == "subscription.events" else { continue }
            records += note["params"]?["records"]?.arrayValue ?? []
            lost += note["params"]?["lost"]?.int64Value ?? 0
        }
        return (records, lost)
    }

    @Test(arguments: [("execsnoop", "events"), ("execsnoop_perf", "perf_events")])
    func everyExecArrivesOnceDecoded(program: String, map: String) async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("execsnoop")
            try client.call("probe.load", ["name": "snoop", "objectId": .string(objectId), "programs": [.string(program)]])
            try client.call("probe.attach", ["probe": "snoop", "program": .string(program), "target": ["type": "auto"]])
            try client.call("events.subscribe", ["map": ["probe": "snoop", "name": .string(map)], "recordType": "struct exec_event"])
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            var pids: [Int64] = []
            for _ in 0..<20 { pids.append(Int64(try Workload.exec(binary.path, times: 1))) }
            // Other processes exec too: keep ours.
            var mine: [JSONValue] = []
            var lost: Int64 = 0
            let deadline = Date().addingTimeInterval(20)
            while mine.count < 20, Date() < deadline {
                let batch = try records(client, count: 1)
                lost += batch.lost
                mine += batch.records.filter { $0["comm"] == .string(binary.comm) }
            }
            #expect(lost == 0)
            #expect(mine.count == 20)
            // Ring buffers keep order; perf buffers only per CPU.
            let seen = mine.compactMap { $0["pid"]?.int64Value }
            if map == "events" { #expect(seen == pids) } else { #expect(Set(seen) == Set(pids)) }
            #expect(mine.allSatisfy { $0["ppid"] == .int(Int64(getpid())) && $0["filename"] == .string(binary.path) && $0["uid"] == 0 })
        }
    }

    @Test func aSlowSubscriberLosesCountedRecordsAndTheStreamGoesOn() async throws {
        try await withServer(["--max-queued-events", "10"]) { server in
            let client = try server.client()
            let objectId = try client.upload("event_flood")
            // getpriority: a system call no other test in this process
            // makes (they run concurrently, and the filter is by process).
            #if arch(arm64)
            let getpriorityNumber: JSONValue = 141
            #else
            let getpriorityNumber: JSONValue = 140
            #endif
            func flood(_ times: Int) { for _ in 0..<times { _ = Glibc.getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) } }
            try client.call("probe.load", ["name": "flood", "objectId": .string(objectId), "programs": ["flood_ringbuf"],
                                           "globals": ["target_tgid": .int(Int64(getpid())), "target_nr": getpriorityNumber]])
            try client.call("probe.attach", ["probe": "flood", "program": "flood_ringbuf", "target": ["type": "auto"]])
            try client.call("events.subscribe", ["map": ["probe": "flood", "name": "flood_events"], "recordType": "struct flood_record"])
            let calls = 5000
            flood(calls)
            usleep(500_000)
            var received = 0
            var lost: Int64 = 0
            while let note = try? nextNotification(client, timeout: 2) {
                received += note["params"]?["records"]?.arrayValue.count ?? 0
                lost += note["params"]?["lost"]?.int64Value ?? 0
            }
            // What the server dropped is in lost; what the kernel dropped
            // (a 4 KiB ring) the program counted itself.
            let kernelLost = try client.call("map.lookup", ["map": ["probe": "flood", "name": "lost"], "key": 0])["value"]?.int64Value ?? 0
            #expect(lost > 0)
            #expect(Int64(received) + lost + kernelLost == Int64(calls))
            // And the stream goes on.
            flood(5)
            let more = try records(client, count: 5)
            #expect(more.records.count == 5)
        }
    }

    @Test func badSubscriptionsGetPreciseErrorsAndUnloadEndsTheStream() async throws {
        try await withServer { server in
            let client = try server.client()
            let probe = try client.load("execsnoop", as: "snoop")
            let ringID = try #require(probe["maps"]?.arrayValue.first { $0["name"] == "events" }?["id"]?.uint64Value).asUInt32
            let hash = try client.callError("events.subscribe", ["map": ["probe": "snoop", "name": "dropped"]])
            #expect(hash.code == .invalidParams)
            #expect(hash.data?["field"] == "map")
            let type = try client.callError("events.subscribe", ["map": ["probe": "snoop", "name": "events"], "recordType": "struct nope"])
            #expect(type.code == .invalidParams)
            #expect(type.data?["field"] == "recordType")
            let ring = try client.callError("map.watch", ["map": ["probe": "snoop", "name": "events"], "intervalMs": 500])
            #expect(ring.code == .invalidParams)
            let id = try client.call("events.subscribe", ["map": ["probe": "snoop", "name": "events"]])["subscription"]!
            let second = try server.client()
            #expect(try second.callError("events.subscribe", ["map": ["probe": "snoop", "name": "events"]]).code == .conflict)
            try second.call("probe.unload", ["probe": "snoop"])
            var end: JSONValue?
            // The wait catches a stream that never ends; it does not time the end.
            while end == nil, let note = try nextNotification(client, timeout: 120) {
                if note["method"] == "subscription.end" { end = note }
            }
            #expect(end?["params"] == ["subscription": id, "reason": "probe unloaded"])
            #expect(try Bpftool.isGone("map", id: ringID))
        }
    }
}

/// `bpfleet map watch` and `bpfleet events tail` against a real node.
@Suite(.requiresKernel)
struct StreamingCommandLineTests {
    @Test func watchAndTailPrintOneLinePerNotificationAndRecord() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("big_hash", as: "big")
            try client.call("map.update", ["map": ["probe": "big", "name": "big"], "key": 7, "value": 42])
            let watch = try bpfleet(["-n", server.address, "-o", "ndjson", "map", "watch", "big", "big", "--interval", "100ms", "--count", "3"],
                                    environment: ["HOME": "/tmp"])
            #expect(watch.status == 0)
            let lines = watch.stdout.split(separator: "\n")
                .compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
                .filter { $0["notification"]?["method"] == "subscription.map" }
            #expect(lines.count == 3)
            #expect(lines.allSatisfy { $0["node"] == .string(server.address) && $0["notification"]?["params"]?["entries"] == [["key": 7, "value": 42]] })

            let objectId = try client.upload("execsnoop")
            try client.call("probe.load", ["name": "snoop", "objectId": .string(objectId), "programs": ["execsnoop"]])
            try client.call("probe.attach", ["probe": "snoop", "program": "execsnoop", "target": ["type": "auto"]])
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            // execs keep coming while the tail runs; it stops at 5 records.
            let stopExecuting = Workload.keepExecuting(binary.path)
            defer { stopExecuting() }
            let tail = try bpfleet(["-n", server.address, "-o", "ndjson", "events", "tail", "snoop", "events",
                                    "--record-type", "struct exec_event", "--count", "5"], environment: ["HOME": "/tmp"])
            stopExecuting()
            #expect(tail.status == 0)
            let records = tail.stdout.split(separator: "\n")
                .compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))["record"] }
            #expect(records.count == 5)
            #expect(records.allSatisfy { $0["pid"]?.int64Value != nil && $0["comm"]?.stringValue != nil })
        }
    }
}

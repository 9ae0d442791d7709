import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Attacks on one bpfleetd, each with an exact bound on what the attacker
/// gets (docs/security.md, "Fair under abuse"): strangers are let go at
/// connect, a client that does not read is not read either, stalled
/// watchers share one body, half-closed clients get every reply whole, and
/// SIGTERM ends the server whatever its clients do.
@Suite(.requiresKernel)
struct AbuseTests {
    @Test func strangersAreToldOnceAndLetGoBeforeTheyHoldAPlaceOrSendAByte() async throws {
        let files = try temporaryDirectory("strangers")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let operatorUID: UInt32 = 54_331
        // Root, this test process, has no role here: it plays the stranger.
        try "root: none\noperators:\n  uids: [\(operatorUID)]\n".write(toFile: files + "/roles.yaml", atomically: true, encoding: .utf8)
        try await withServer(["--roles", files + "/roles.yaml", "--socket-group", String(operatorUID), "--max-connections", "4"]) { server in
            let node = ["-n", server.address, "-o", "json"]
            #expect(try bpfleet(node + ["node", "info"], as: operatorUID).json?.arrayValue.first?["ok"] == true)
            let baseline = server.openDescriptors()
            // 200 strangers, each connection kept open on this side, each
            // sending a request nested 500 deep the server never parses.
            let nested = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
            var strangers: [LineClient] = []
            let started = Date()
            for _ in 0..<200 {
                let stranger = try server.client()
                try? stranger.send(nested)
                strangers.append(stranger)
            }
            for stranger in strangers {
                let reply = try stranger.readReply()
                #expect(reply["id"] == .null)
                #expect(reply["error"]?["code"] == -32001)
                #expect(reply["error"]?["data"]?["identity"]?.stringValue?.hasPrefix("uid=0 ") == true, "\(reply)")
                #expect(try stranger.readLine() == nil)  // and closed by the server
            }
            // None of them holds a place: the operator, with a limit of 4
            // connections, is served. Nor, after its linger of at most a
            // second (docs/security.md, "Fair under abuse"), a descriptor, though every stranger
            // keeps its end open.
            var descriptors = server.openDescriptors()
            for _ in 0..<300 where descriptors != baseline {
                usleep(100_000)
                descriptors = server.openDescriptors()
            }
            #expect(descriptors == baseline)
            #expect(try bpfleet(node + ["node", "info"], as: operatorUID).json?.arrayValue.first?["ok"] == true)
            // The CLI run as a stranger reports the refusal it was sent.
            let refused = try #require(try JSONDecoder().decode(JSONValue.self, from: Data(bpfleet(node + ["node", "info"]).stdout.utf8)).arrayValue.first)
            #expect(refused["error"]?["code"] == -32001)
            // Logged, at a bounded rate: 10 lines in each minute the
            // refusals spanned (a loaded machine stretches them over more
            // minutes), far fewer than the 201 refusals.
            let minutes = Int(Date().timeIntervalSince(started) / 60) + 2
            let logged = server.log.components(separatedBy: "connection refused: no role").count - 1
            #expect(logged >= 1 && logged <= 10 * minutes, "\(logged) lines in \(minutes) minute windows")
        }
    }

    @Test func viewersCannotTakeThePlacesKeptForOperators() async throws {
        let files = try temporaryDirectory("reserve")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let operatorUID: UInt32 = 54_332
        try "root: viewer\noperators:\n  uids: [\(operatorUID)]\n".write(toFile: files + "/roles.yaml", atomically: true, encoding: .utf8)
        // 32 places, the last 2 (a sixteenth) kept for operators.
        try await withServer(["--roles", files + "/roles.yaml", "--socket-group", String(operatorUID), "--max-connections", "32"]) { server in
            let viewers = try (0..<30).map { _ in try server.client() }
            for viewer in viewers { #expect(try viewer.call("node.info")["btf"] == true) }
            let refused = try server.client()
            let reply = try refused.readReply()
            #expect(reply["error"]?["code"] == -32009)
            #expect(reply["error"]?["data"]?["limit"] == "maxConnections")
            #expect(reply["error"]?["message"]?.stringValue?.contains("kept for operators") == true, "\(reply)")
            #expect(try refused.readLine() == nil)
            let node = ["-n", server.address, "-o", "json"]
            #expect(try bpfleet(node + ["node", "info"], as: operatorUID).json?.arrayValue.first?["ok"] == true)
        }
    }

    @Test func aClientThatNeverReadsIsNotReadEitherAndLosesNoReply() async throws {
        try await withServer { server in
            let reader = try server.client()
            try reader.call("node.info")
            usleep(200_000)
            let before = server.residentBytes()
            let greedy = try server.client()
            let total = 200_000
            let lines = (1...total).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"node.info"}"# }
            let sent = try greedy.sendUntilStalled(lines)
            // The server stopped reading long before the last request.
            #expect(sent < total, "all \(total) requests were taken")
            let grown = server.residentBytes() - before
            #expect(grown < 64 << 20, "RSS grew by \(grown >> 20) MiB")
            // Another client is served meanwhile, within a bound far above
            // a loaded machine's round trip (milliseconds).
            let asked = Date()
            #expect(try reader.call("node.info")["btf"] == true)
            #expect(Date().timeIntervalSince(asked) < 10)
            // Every request that went out gets its reply, once.
            var answered = Set<Int64>()
            var refused = 0
            for _ in 0..<sent {
                let reply = try greedy.readReply()
                if let id = reply["id"]?.int64Value { answered.insert(id) }
                if reply["error"] != nil {
                    #expect(reply["error"]?["data"]?["limit"] == "maxInFlight", "\(reply)")
                    refused += 1
                }
            }
            #expect(answered == Set(1...Int64(sent)))
            #expect(refused < sent)
            #expect(try greedy.call("node.info")["btf"] == true)
        }
    }

    @Test func sigtermEndsTheServerWhateverItsClientsDo() async throws {
        let server = try ServerProcess.start()
        defer { server.stop() }
        let greedy = try server.client()
        let lines = (1...200_000).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"node.info"}"# }
        let sent = try greedy.sendUntilStalled(lines)
        #expect(sent < lines.count)
        let idle = try server.client()
        try idle.call("node.info")
        kill(server.pid, SIGTERM)
        // It exits by itself (SIGTERM's grace is 2 s), not by the SIGKILL
        // `stop` would send after 5 s.
        let deadline = Date().addingTimeInterval(60)
        while server.process.isRunning, Date() < deadline { usleep(20_000) }
        #expect(!server.process.isRunning)
        if !server.process.isRunning {
            #expect(server.process.terminationReason == .exit)
            #expect(server.process.terminationStatus == 0)
        }
        #expect(try idle.readLine(timeout: 10) == nil)
    }

    @Test func aHalfClosedClientGetsEveryReplyWhole() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("big_hash", as: "big")
            let entries = 50_000
            try client.fill("big", "big", count: entries)
            let half = try server.client()
            try half.sendRaw(Array("""
            {"jsonrpc":"2.0","id":1,"method":"map.snapshot","params":{"map":{"probe":"big","name":"big"},"format":"hex"}}
            {"jsonrpc":"2.0","id":2,"method":"probe.list"}
            {"jsonrpc":"2.0","id":3,"method":"node.info"}

            """.utf8))
            half.finishSending()
            var replies: [Int64: JSONValue] = [:]
            var bytes = 0
            while let line = try half.readLine() {
                bytes += line.count
                let reply = try JSONDecoder().decode(JSONValue.self, from: line)
                if let id = reply["id"]?.int64Value { replies[id] = reply }
            }
            #expect(bytes > 2_000_000, "\(bytes) bytes")
            #expect(replies.keys.sorted() == [1, 2, 3])
            let snapshot = try #require(replies[1]?["result"])
            #expect(snapshot["count"] == .int(Int64(entries)))
            #expect(snapshot["entries"]?.arrayValue.count == entries)
            #expect(replies[2]?["result"]?["probes"]?.arrayValue.count == 1)
            #expect(replies[3]?["result"]?["btf"] == true)
        }
    }

    @Test func stalledWatchersOfOneMapShareOneBody() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("big_hash", as: "big")
            try client.fill("big", "big", count: 20_000)
            // One notification is about 600 kB.
            let body = try client.call("map.snapshot", ["map": ["probe": "big", "name": "big"]])
            #expect(body["count"] == 20_000)
            usleep(200_000)
            let before = server.residentBytes()
            // 10 connections × 64 watches that never read: 640 stalled
            // watchers, 380 MB if each held its own copy.
            var watchers: [LineClient] = []
            for _ in 0..<10 {
                let watcher = try server.client()
                let requests = (1...64).map { id in
                    #"{"jsonrpc":"2.0","id":\#(id),"method":"map.watch","params":{"map":{"probe":"big","name":"big"},"intervalMs":100,"mode":"full"}}"#
                }
                try watcher.sendRaw(Array((requests.joined(separator: "\n") + "\n").utf8))
                watchers.append(watcher)
            }
            // Long enough for every watcher to have stalled on a full socket
            // (about 3 notifications fill one), however slow the machine;
            // RSS is read at its highest over that time.
            var peak = 0
            for _ in 0..<30 {
                usleep(100_000)
                peak = max(peak, server.residentBytes())
            }
            let grown = peak - before
            #expect(grown < 96 << 20, "RSS grew by \(grown >> 20) MiB")
            // Meanwhile others are served, and a stalled watcher that reads
            // gets whole notifications.
            let asked = Date()
            #expect(try client.call("node.info")["btf"] == true)
            #expect(Date().timeIntervalSince(asked) < 10)
            let first = try #require(watchers.first)
            var notifications = 0
            while notifications < 3, let line = try first.readLine() {
                let message = try JSONDecoder().decode(JSONValue.self, from: line)
                if message["method"] == "subscription.map" {
                    #expect(message["params"]?["entries"]?.arrayValue.count == 20_000)
                    notifications += 1
                }
            }
            #expect(notifications == 3)
        }
    }
}

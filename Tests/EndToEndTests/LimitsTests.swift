import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Each limit trips with -32009 naming it, and the server serves the next
/// client as before.
@Suite(.requiresServer)
struct LimitsTests {
    @Test func connectionLimitsInAllAndPerIdentity() async throws {
        for (flag, limitName) in [("--max-connections", "maxConnections"), ("--max-connections-per-identity", "maxConnectionsPerIdentity")] {
            try await withServer([flag, "3"]) { server in
                var open = try (0..<3).map { _ in try server.client() }
                for client in open { try client.call("node.info") }
                let refused = try server.client()
                let reply = try refused.readReply(timeout: 10)
                #expect(reply["error"]?["code"] == -32009)
                #expect(reply["error"]?["data"]?["limit"] == .string(limitName))
                #expect(reply["error"]?["data"]?["value"] == 3)
                #expect(try refused.readLine(timeout: 10) == nil)  // and closed
                // One leaves; the next is served.
                open.removeLast()
                var served = false
                for _ in 0..<100 where !served {
                    let next = try server.client()
                    served = (try? next.call("node.info")) != nil
                    if !served { usleep(50_000) }
                }
                #expect(served)
            }
        }
    }

    @Test(.requiresKernel) func requestsBeyondTheInFlightLimitAreRefusedNotQueued() async throws {
        try await withServer(["--max-in-flight", "1"]) { server in
            let client = try server.client()
            let objectId = try client.upload("big_hash")
            // 20 loads in one write: each runs the verifier and pins maps, so
            // while the first runs the others are already there.
            let request = { (id: Int) in
                #"{"jsonrpc":"2.0","id":\#(id),"method":"probe.load","params":{"name":"p\#(id)","objectId":"\#(objectId)"}}"#
            }
            try client.sendRaw(Array((0..<20).map(request).joined(separator: "\n").utf8) + [0x0A])
            var ok = 0, refused = 0
            for _ in 0..<20 {
                let reply = try client.readReply()
                if reply["result"] != nil { ok += 1 }
                if reply["error"]?["data"]?["limit"] == "maxInFlight" { refused += 1 }
            }
            #expect(ok >= 1)
            #expect(refused >= 1)
            #expect(ok + refused == 20)
            #expect(try client.call("probe.list")["probes"]?.arrayValue.count == ok)
        }
    }

    @Test func silentAndDribblingClientsAreCutOffWhenIdle() async throws {
        try await withServer(["--idle-timeout", "1"]) { server in
            let silent = try server.client()
            let dribbler = try server.client()
            let busy = try server.client()
            let started = Date()
            // The dribbler sends a byte every 200 ms and never a newline;
            // the busy client makes a call every 200 ms.
            var silentClosed = false, dribblerClosed = false
            var silentReply: JSONValue?
            while Date().timeIntervalSince(started) < 4 {
                try? dribbler.sendRaw([UInt8(ascii: " ")])
                #expect((try? busy.call("node.info")) != nil)
                usleep(200_000)
            }
            silentReply = try silent.readReply(timeout: 5)
            silentClosed = try silent.readLine(timeout: 5) == nil
            var dribblerLine = try dribbler.readLine(timeout: 5)
            if let line = dribblerLine, let reply = try? JSONDecoder().decode(JSONValue.self, from: line) {
                #expect(reply["error"]?["data"]?["limit"] == "idleTimeout")
                dribblerLine = try dribbler.readLine(timeout: 5)
            }
            dribblerClosed = dribblerLine == nil
            #expect(silentReply?["error"]?["code"] == -32009)
            #expect(silentReply?["error"]?["data"]?["limit"] == "idleTimeout")
            #expect(silentClosed)
            #expect(dribblerClosed)
            #expect(try busy.call("probe.list")["probes"] == [])
        }
    }

    @Test func aThousandConnectionsAreHeldAndAnswered() async throws {
        // An idle timeout of a day: however slow the thousand calls are,
        // none of these connections is idle before it is counted.
        try await withServer(["--max-connections-per-identity", "2000", "--idle-timeout", "86400"]) { server in
            // One connection first, kept open, so that whatever the server
            // opens once (and keeps) is in the baseline.
            let first = try server.client()
            try first.call("node.info")
            let baseline = server.openDescriptors()
            var clients: [LineClient] = []
            for _ in 0..<1000 {
                let client = try server.client()
                #expect(try client.call("node.info")["btf"] == true)
                clients.append(client)
            }
            #expect(server.openDescriptors() >= baseline + 1000)
        }
    }

    @Test func aThousandIdleConnectionsAreReaped() async throws {
        // However long the connecting takes, each connection is closed
        // once it has been idle for a second: the test waits for the
        // notices, not for a time.
        try await withServer(["--idle-timeout", "1", "--max-connections-per-identity", "2000"]) { server in
            try server.client().call("node.info")
            usleep(100_000)
            let baseline = server.openDescriptors()
            let clients = try (0..<1000).map { _ in try server.client() }
            var closed = 0
            for client in clients {
                let notice = try client.readReply(timeout: 120)
                #expect(notice["error"]?["data"]?["limit"] == "idleTimeout")
                if try client.readLine(timeout: 120) == nil { closed += 1 }
            }
            #expect(closed == 1000)
            var descriptors = server.openDescriptors()
            for _ in 0..<300 where descriptors > baseline {
                usleep(100_000)
                descriptors = server.openDescriptors()
            }
            #expect(descriptors == baseline)
        }
    }

    @Test func plainTCPIsRefusedAwayFromLoopbackAndWithoutTLS() async throws {
        let directory = try temporaryDirectory("plain")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let common = ["--state-dir", directory + "/state", "--pin-root", "/sys/fs/bpf/bpfleet-plain-\(getpid())"]
        let away = try run(TestEnvironment.bpfleetd, ["--listen", "tcp://0.0.0.0:17447", "--insecure-plaintext"] + common)
        #expect(away.status != 0)
        #expect(String(decoding: away.stderr, as: UTF8.self).contains("--insecure-plaintext serves loopback addresses only"))
        let noTLS = try run(TestEnvironment.bpfleetd, ["--listen", "tcp://127.0.0.1:17447"] + common)
        #expect(noTLS.status != 0)
        #expect(String(decoding: noTLS.stderr, as: UTF8.self).contains("TCP listeners need TLS"))
        try? FileManager.default.removeItem(atPath: "/sys/fs/bpf/bpfleet-plain-\(getpid())")
    }
}

@testable import BpfleetClient
import BpfleetShared
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A socket of the test's own, bound (so connects to it are refused) and
/// listening only when told (then connects complete in the kernel's
/// backlog, and nothing is ever read or written).
private final class HeldSocket: @unchecked Sendable {
    let descriptor: Int32
    let address: NodeAddress
    private let path: String?

    /// A Unix socket at a fresh path.
    init(unix: ()) throws {
        let path = "/tmp/bpfleet-client-test-\(UUID().uuidString.prefix(8)).sock"
        self.descriptor = try boundUnixSocket(path)
        self.path = path
        self.address = .unix(path: path)
    }

    /// A TCP port on 127.0.0.1 that the kernel picks.
    init(tcp: ()) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var name = sockaddr_in()
        name.sin_family = sa_family_t(AF_INET)
        name.sin_addr.s_addr = inet_addr("127.0.0.1")
        name.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &name) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        self.descriptor = descriptor
        self.path = nil
        self.address = .tcp(host: "127.0.0.1", port: Int(UInt16(bigEndian: name.sin_port)))
    }

    func listen() {
        _ = Glibc.listen(descriptor, 16)
    }

    deinit {
        close(descriptor)
        if let path { unlink(path) }
    }
}

/// Counts a fan-out's attempts at connecting, and those that failed.
private final class Attempts: @unchecked Sendable {
    private let lock = NSLock()
    private var made = 0
    private var failures = 0

    var count: Int { lock.withLock { made } }
    var failed: Int { lock.withLock { failures } }

    /// The real attempt, counted.
    func counting(_ target: NodeTarget, _ timeout: Duration) async throws -> NodeConnection {
        lock.withLock { made += 1 }
        do {
            return try await NodeConnection.attempt(to: target, timeout: timeout)
        } catch {
            lock.withLock { failures += 1 }
            throw error
        }
    }
}

/// A fan-out whose attempts are counted, with short waits between them.
private func counted(_ attempts: Attempts, retries: Int, connectTimeout: Duration = .seconds(5),
                     timeout: Duration = .seconds(10)) -> FanOut {
    var fanOut = FanOut(concurrency: 4, connectTimeout: connectTimeout, timeout: timeout, retries: retries,
                        backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(100)))
    fanOut.attempt = { try await attempts.counting($0, $1) }
    return fanOut
}

@Suite("connecting: retries, timeouts, outcomes")
struct ConnectRetryTests {
    @Test("a listener that starts late: the connect is tried again until it succeeds")
    func lateListener() async throws {
        let socket = try HeldSocket(unix: ())
        let attempts = Attempts()
        let fanOut = counted(attempts, retries: 20)
        let listening = Task {
            // Only once a connect has been refused, so a retry is what succeeds.
            while attempts.failed == 0 { try await Task.sleep(for: .milliseconds(5)) }
            try await Task.sleep(for: .milliseconds(300))
            socket.listen()
        }
        let connection = try await fanOut.connect(to: NodeTarget(address: socket.address))
        await connection.close()
        try await listening.value
        #expect(attempts.failed >= 1)
        #expect(attempts.count == attempts.failed + 1)
    }

    @Test("with --retries 0 a refused connect is one attempt, and the node unreachable")
    func noRetries() async throws {
        let socket = try HeldSocket(unix: ())
        let attempts = Attempts()
        let outcomes = await counted(attempts, retries: 0).collect([NodeTarget(address: socket.address)], calling: { _ in true })
        #expect(attempts.count == 1)
        #expect(outcomes[0].status == .unreachable)
        #expect(outcomes[0].error as? ClientError
            == .cannotConnect(socket.address, reason: "Connection refused", hint: "is bpfleetd running?"))
    }

    @Test("a refused TCP port is tried N+1 times, then counted unreachable")
    func refusedPort() async throws {
        let port = try HeldSocket(tcp: ())
        let attempts = Attempts()
        let target = NodeTarget(address: port.address, security: .insecurePlaintext)
        let outcomes = await counted(attempts, retries: 3).collect([target], calling: { _ in true })
        #expect(attempts.count == 4)
        #expect(outcomes[0].status == .unreachable)
        #expect(outcomes[0].error as? ClientError
            == .cannotConnect(port.address, reason: "Connection refused", hint: "is bpfleetd running?"))
    }

    @Test("a missing socket is not transient: one attempt")
    func missingSocket() async throws {
        let address = NodeAddress.unix(path: "/tmp/bpfleet-client-test-missing-\(UUID().uuidString.prefix(8)).sock")
        let attempts = Attempts()
        let outcomes = await counted(attempts, retries: 3).collect([NodeTarget(address: address)], calling: { _ in true })
        #expect(attempts.count == 1)
        #expect(outcomes[0].status == .unreachable)
    }

    @Test("no retry once a request was sent: a node that reads the request and closes sees it once")
    func noRetryAfterRequest() async throws {
        try await LineServer.with { server in
            let attempts = Attempts()
            let outcomes = await counted(attempts, retries: 3).collect([NodeTarget(address: server.address)], calling: { connection in
                try await connection.callRaw(method: "drop", params: nil)
            })
            #expect(attempts.count == 1)
            #expect(server.received.named("drop").count == 1)
            #expect(outcomes[0].status == .failed)
            #expect(outcomes[0].error as? ClientError == .connectionClosed(server.address, reason: nil))
        }
    }

    @Test("a connect that times out (no TLS answer) is unreachable; a call that times out failed; the errors say which")
    func connectTimeoutAndCallTimeout() async throws {
        let pki = try TestPKI()
        try pki.client("alice")
        // Accepts in the kernel's backlog and never answers the TLS handshake.
        let silent = try HeldSocket(tcp: ())
        silent.listen()
        let attempts = Attempts()
        let target = NodeTarget(address: silent.address, security: .tls(try pki.credentials(client: "alice")))
        let connecting = await counted(attempts, retries: 1, connectTimeout: .milliseconds(200)).collect([target], calling: { _ in true })
        let connectError = try #require(connecting[0].error as? ClientError)
        #expect(connectError == .connectTimedOut(silent.address, after: .milliseconds(200)))
        #expect(connectError.description == "timed out after 200ms connecting to \(silent.address)")
        #expect(connectError.reason == "timed out after 200ms connecting")
        #expect(connectError.kind == "timeout")
        #expect(connecting[0].status == .unreachable)
        // A timeout is transient: tried again.
        #expect(attempts.count == 2)

        try await LineServer.with(holdCount: 100) { server in
            let calls = Attempts()
            let calling = await counted(calls, retries: 3, timeout: .milliseconds(200)).collect([NodeTarget(address: server.address)], calling: {
                try await $0.callRaw(method: "hold", params: nil)
            })
            let callError = try #require(calling[0].error as? ClientError)
            #expect(callError == .timedOut(server.address, after: .milliseconds(200)))
            #expect(callError.description == "timed out after 200ms waiting for \(server.address)")
            #expect(callError.reason == "timed out after 200ms waiting for the answer")
            #expect(calling[0].status == .failed)
            #expect(calls.count == 1)
        }
    }

    @Test("outcomes counted ok, failed and unreachable")
    func summary() async throws {
        try await LineServer.with { good in
            try await LineServer.with { bad in
                let missing = NodeAddress.unix(path: "/tmp/bpfleet-client-test-missing-\(UUID().uuidString.prefix(8)).sock")
                let targets = [good.address, bad.address, missing, good.address].map { NodeTarget(address: $0) }
                let badAddress = bad.address
                let outcomes = await FanOut(retries: 0).collect(targets, calling: { connection in
                    try await connection.callRaw(method: connection.address == badAddress ? "fail" : "echo", params: ["x": 1])
                })
                #expect(outcomes.map(\.status) == [.ok, .failed, .unreachable, .ok])
                var summary = FanOutSummary()
                for outcome in outcomes { summary.add(outcome.status) }
                #expect(summary == FanOutSummary(ok: 2, failed: 1, unreachable: 1))
                #expect(summary.description == "2 ok, 1 failed, 1 unreachable (of 4 nodes)")
                #expect(summary.exitStatus == 2)
            }
        }
    }
}

@Suite("exit status, summary and backoff")
struct FanOutSummaryTests {
    @Test("0 when every node succeeded, 1 when none did, 2 when some did")
    func exitStatus() {
        #expect(FanOutSummary(ok: 3).exitStatus == 0)
        #expect(FanOutSummary().exitStatus == 0)
        #expect(FanOutSummary(failed: 1).exitStatus == 1)
        #expect(FanOutSummary(unreachable: 1).exitStatus == 1)
        #expect(FanOutSummary(failed: 2, unreachable: 3).exitStatus == 1)
        #expect(FanOutSummary(ok: 1, failed: 1).exitStatus == 2)
        #expect(FanOutSummary(ok: 5, unreachable: 1).exitStatus == 2)
        #expect(FanOutSummary(ok: 17, failed: 2, unreachable: 1).description == "17 ok, 2 failed, 1 unreachable (of 20 nodes)")
        #expect(FanOutSummary(ok: 1).description == "1 ok, 0 failed, 0 unreachable (of 1 node)")
    }

    @Test("unreachable: no connection was made, or TLS refused one; everything else failed")
    func status() {
        let node = NodeAddress.unix(path: "/x")
        let unreachable: [any Error] = [
            ClientError.cannotConnect(node, reason: "Connection refused", hint: nil),
            ClientError.connectTimedOut(node, after: .seconds(5)),
            ClientError.unsupported(node, detail: "no TLS"),
        ]
        let failed: [any Error] = [
            ClientError.timedOut(node, after: .seconds(10)),
            ClientError.connectionClosed(node, reason: nil),
            ClientError.malformedMessage(node, detail: "x"),
            ResponseError(.notFound, "no probe"),
            MethodFailure(method: "probe.get", error: ResponseError(.notFound, "no probe")),
            CancellationError(),
        ]
        #expect(unreachable.map(NodeStatus.init(failure:)) == [.unreachable, .unreachable, .unreachable])
        #expect(failed.map(NodeStatus.init(failure:)) == Array(repeating: .failed, count: failed.count))
    }

    @Test("backoff: 200 ms doubling to at most 5 s, each wait in the upper half")
    func backoff() {
        let backoff = Backoff()
        #expect((1...8).map(backoff.ceiling(beforeRetry:)) == [
            .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600), .milliseconds(3200),
            .seconds(5), .seconds(5), .seconds(5),
        ])
        #expect(backoff.ceiling(beforeRetry: 1000) == .seconds(5))
        for retry in 1...8 {
            let ceiling = backoff.ceiling(beforeRetry: retry)
            let delays = (0..<200).map { _ in backoff.delay(beforeRetry: retry) }
            #expect(delays.allSatisfy { $0 >= ceiling / 2 && $0 <= ceiling })
            // Jittered: not one fixed wait.
            #expect(Set(delays).count > 1)
        }
    }
}

@testable import BpfleetClient
import BpfleetShared
import Foundation
import NIOCore
import Testing

@Suite("NodeConnection against a line server")
struct NodeConnectionTests {
    @Test("the raw result comes back byte for byte")
    func rawResultPassesThrough() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let result = try await connection.callRaw(method: "fixed", params: nil)
            #expect(String(decoding: result.readableBytesView, as: UTF8.self) == LineServer.fixedResult)
            await connection.close()
        }
    }

    @Test("params go out as one JSON line and come back unchanged")
    func paramsRoundTrip() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let params: JSONValue = ["text": "line\nbreak \"quoted\"", "big": .uint(UInt64.max), "list": [1, -2]]
            let result = try await connection.callRaw(method: "echo", params: params)
            let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(result.readableBytesView))
            #expect(decoded == params)
            await connection.close()
        }
    }

    @Test("a typed call decodes its Result")
    func typedCall() async throws {
        try await LineServer.with { server in
            let info = try await NodeConnection.withConnection(to: server.address, timeout: .seconds(120)) {
                try await $0.call(NodeInfo())
            }
            #expect(info.hostname == "web-1")
            #expect(info.btf)
            #expect(info.uptimeSeconds == 12.5)
        }
    }

    @Test("responses answered out of order reach their own callers")
    func outOfOrderResponses() async throws {
        try await LineServer.with(holdCount: 3) { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let tags = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for tag in ["a", "b", "c"] {
                    group.addTask {
                        let result = try await connection.callRaw(method: "hold", params: ["tag": .string(tag)])
                        let answer = try JSONDecoder().decode(JSONValue.self, from: Data(result.readableBytesView))
                        return (tag, answer["tag"]?.stringValue ?? "?")
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(tags.count == 3)
            for (asked, answered) in tags { #expect(asked == answered) }
            await connection.close()
        }
    }

    @Test("an error response is thrown as the server's ResponseError")
    func errorResponse() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            do {
                _ = try await connection.callRaw(method: "fail", params: nil)
                Issue.record("expected an error")
            } catch let error as ResponseError {
                #expect(error.code == .verifierRejected)
                #expect(error.message == "program 'bad' rejected")
                #expect(error.data?["errno"] == 13)
                let line = FailureText.line(MethodFailure(method: "probe.load", error: error))
                #expect(line == "probe.load: verifier rejected (-32006): program 'bad' rejected: 1: R1 invalid mem access 'scalar'")
                #expect(FailureText.verifierLog(error)?.hasPrefix("0: (b7) r0 = 0\n") == true)
            }
            // The connection is still good after an error.
            let result = try await connection.callRaw(method: "echo", params: [1])
            #expect(String(decoding: result.readableBytesView, as: UTF8.self) == "[1]")
            await connection.close()
        }
    }

    @Test("an error with a null id fails the calls waiting for an answer")
    func unattributedError() async throws {
        try await LineServer.with(holdCount: 100) { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let waiting = Task { try await connection.callRaw(method: "hold", params: nil) }
            try await Task.sleep(for: .milliseconds(50))
            await #expect(throws: ResponseError.self) { _ = try await connection.callRaw(method: "orphan", params: nil) }
            await #expect(throws: ResponseError.self) { _ = try await waiting.value }
            await connection.close()
        }
    }

    @Test("a refusal sent at connect answers every call, also those made after the close")
    func refusedAtConnect() async throws {
        try await LineServer.with(refuseAtConnect: true) { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            // However late the first call comes, it gets the node's refusal,
            // not "connection closed".
            for _ in 0..<1000 where connection.isOpen { try await Task.sleep(for: .milliseconds(10)) }
            #expect(!connection.isOpen)
            for method in ["node.info", "probe.unload"] {
                do {
                    _ = try await connection.callRaw(method: method, params: nil)
                    Issue.record("\(method) succeeded")
                } catch let error as ResponseError {
                    #expect(error.code == .unauthenticated)
                    #expect(error.data?["identity"] == "uid=1000 gid=1000 pid=1")
                }
            }
            await connection.close()
        }
    }

    @Test("a dropped connection fails every waiting call, and later ones")
    func droppedConnection() async throws {
        try await LineServer.with(holdCount: 100) { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let first = Task { try await connection.callRaw(method: "hold", params: nil) }
            let second = Task { try await connection.callRaw(method: "hold", params: nil) }
            try await Task.sleep(for: .milliseconds(50))
            await #expect(throws: ClientError.connectionClosed(server.address, reason: nil)) {
                _ = try await connection.callRaw(method: "drop", params: nil)
            }
            await #expect(throws: ClientError.connectionClosed(server.address, reason: nil)) { _ = try await first.value }
            await #expect(throws: ClientError.connectionClosed(server.address, reason: nil)) { _ = try await second.value }
            await #expect(throws: ClientError.connectionClosed(server.address, reason: nil)) {
                _ = try await connection.callRaw(method: "echo", params: nil)
            }
            #expect(ClientError.connectionClosed(server.address, reason: nil).description == "connection to \(server.address) closed")
        }
    }

    @Test("notifications go to the hook, responses still to their callers")
    func notification() async throws {
        try await LineServer.with { server in
            let (stream, continuation) = AsyncStream.makeStream(of: ServerNotification.self)
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120)) { continuation.yield($0) }
            let result = try await connection.callRaw(method: "notify", params: nil)
            #expect(String(decoding: result.readableBytesView, as: UTF8.self) == "true")
            var iterator = stream.makeAsyncIterator()
            let notification = try #require(await iterator.next())
            #expect(notification.method == "subscription.test")
            #expect(notification.params.map { String(decoding: $0.readableBytesView, as: UTF8.self) } == #"{"subscription":7,"seq":1}"#)
            await connection.close()
        }
    }

    @Test("a line that is not JSON ends the connection with a clear error")
    func malformedLine() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            do {
                _ = try await connection.callRaw(method: "garbage", params: nil)
                Issue.record("expected an error")
            } catch let error as ClientError {
                guard case .malformedMessage = error else { Issue.record("got \(error)"); return }
                #expect(error.description.hasPrefix("malformed message from \(server.address): "))
            }
        }
    }

    @Test("a response over the client's limit is refused, not buffered")
    func oversizedResponse() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120), maximumMessageLength: 1024)
            let small = try await connection.callRaw(method: "big", params: ["size": 100])
            #expect(small.readableBytes == 102)
            do {
                _ = try await connection.callRaw(method: "big", params: ["size": 10_000])
                Issue.record("expected an error")
            } catch let error as ClientError {
                guard case .responseTooLarge(_, let bytes, 1024) = error else { Issue.record("got \(error)"); return }
                #expect(bytes > 10_000)
            }
        }
    }

    @Test("a large result arrives whole")
    func largeResult() async throws {
        try await LineServer.with { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            let result = try await connection.callRaw(method: "big", params: ["size": 8_000_000])
            #expect(result.readableBytes == 8_000_002)
            await connection.close()
        }
    }

    @Test("a caller that stops waiting leaves the connection usable")
    func cancelledCall() async throws {
        try await LineServer.with(holdCount: 100) { server in
            let connection = try await NodeConnection.connect(to: server.address, timeout: .seconds(120))
            // The held call never returns on its own, so the timeout error
            // is the proof of the cut; no wall-clock bound needed.
            await #expect(throws: ClientError.timedOut(server.address, after: .milliseconds(200))) {
                try await withTimeout(.milliseconds(200), waitingFor: server.address) {
                    try await connection.callRaw(method: "hold", params: nil)
                }
            }
            let result = try await connection.callRaw(method: "echo", params: ["still": "here"])
            #expect(String(decoding: result.readableBytesView, as: UTF8.self) == #"{"still":"here"}"#)
            await connection.close()
        }
    }

    @Test("connecting to a missing socket says what to check")
    func missingSocket() async throws {
        let address = NodeAddress.unix(path: "/tmp/bpfleet-client-test-missing-\(UUID().uuidString.prefix(8)).sock")
        do {
            _ = try await NodeConnection.connect(to: address, timeout: .seconds(120))
            Issue.record("expected an error")
        } catch let error as ClientError {
            #expect(error.description == "cannot connect to \(address): No such file or directory (is bpfleetd running?)")
            #expect(error.kind == "unreachable")
        }
    }
}

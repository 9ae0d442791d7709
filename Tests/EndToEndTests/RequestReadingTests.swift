import BpfleetShared
import Foundation
import TestSupport
import Testing

/// How bpfleetd reads request lines (JSONReader): nesting bound, numbers
/// and surrogates it cannot keep, ids echoed as sent, batch limits; and that
/// reading costs a hostile peer's lines no more than their length.
@Suite(.requiresServer)
struct RequestReadingTests {
    /// A ~1 KB request whose params nest 500 deep.
    static let deepRequest = #"{"jsonrpc":"2.0","id":7,"method":"node.info","params":{"a":"#
        + String(repeating: "[", count: 500) + String(repeating: "]", count: 500) + "}}"

    /// A batch of `count` node.info requests with ids 1...count.
    static func batch(_ count: Int) -> String {
        "[" + (1...count).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"node.info"}"# }.joined(separator: ",") + "]"
    }

    /// Sends one raw line and reads the reply line as text.
    func exchange(_ client: LineClient, _ line: String) throws -> String {
        try client.send(line)
        guard let reply = try client.readLine() else { throw TestFailure("connection closed") }
        return String(decoding: reply, as: UTF8.self)
    }

    func parsed(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func aRequestNestedPastTheLimitIsAnInvalidRequestNamingIt() async throws {
        try await withServer { server in
            let client = try server.client()
            let reply = try parsed(try exchange(client, Self.deepRequest))
            #expect(reply["id"] == .null)
            #expect(reply["error"] == [
                "code": -32600,
                "message": "invalid request: nested deeper than the limit of 64 levels at byte 121",
                "data": ["limit": "maxDepth", "value": 64],
            ])
            #expect(try client.call("node.info")["hostname"] != nil)
        }
    }

    @Test func numbersOutOfRangeAndLoneSurrogatesInParamsAreInvalidParamsNamingTheField() async throws {
        try await withServer { server in
            let client = try server.client()
            let cases: [(String, String, String)] = [
                (#""map.update","params":{"map":{"probe":"p","name":"m"},"key":1,"value":1e400}"#,
                 "params.value", "number out of range"),
                (#""map.update","params":{"map":{"probe":"p","name":"m"},"key":[1,-1e400],"value":1}"#,
                 "params.key[1]", "number out of range"),
                (#""probe.get","params":{"probe":"\ud800"}"#,
                 "params.probe", #"string holds a lone surrogate (\ud800)"#),
                (#""probe.load","params":{"name":"a","objectId":"x","labels":{"k":"v\udfff"}}"#,
                 "params.labels.k", #"string holds a lone surrogate (\udfff)"#),
                (#""probe.attach","params":{"probe":"p","program":"x","target":{"type":"tc","interface":"lo","direction":"ingress","priority":1e400}}"#,
                 "params.target.priority", "number out of range"),
            ]
            for (body, field, problem) in cases {
                let reply = try parsed(try exchange(client, #"{"jsonrpc":"2.0","id":1,"method":"# + body + "}"))
                #expect(reply["error"] == [
                    "code": -32602, "message": .string("invalid params: \(field): \(problem)"), "data": ["field": .string(field)],
                ], "\(body)")
            }
            // A number in range for JSON but not for its field names the field too.
            let priority = try parsed(try exchange(client, #"{"jsonrpc":"2.0","id":2,"method":"probe.attach","params":{"probe":"p","program":"x","target":{"type":"tc","interface":"lo","direction":"ingress","priority":4294967296}}}"#))
            #expect(priority["error"]?["code"] == -32602)
            #expect(priority["error"]?["data"] == ["field": "params.target.priority"])
            // Outside params the same defects make the request invalid.
            let method = try parsed(try exchange(client, #"{"jsonrpc":"2.0","id":3,"method":"node.\ud800"}"#))
            #expect(method["id"] == 3)
            #expect(method["error"]?["code"] == -32600)
            #expect(method["error"]?["message"] == #"invalid request: method: string holds a lone surrogate (\ud800)"#)
        }
    }

    @Test func idsOfAnyJSONNumberAreEchoedByteForByte() async throws {
        try await withServer { server in
            let client = try server.client()
            for id in ["1", "1.5", "1.0", "18446744073709551615", "-0", "1e400", "2E+3", "-7.25e-3", #""abc""#] {
                let answered = try exchange(client, #"{"jsonrpc":"2.0","id":\#(id),"method":"node.info"}"#)
                #expect(answered.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"result":{"#), "\(id): \(answered)")
                let refused = try exchange(client, #"{"jsonrpc":"2.0","id":\#(id),"method":"no.such"}"#)
                #expect(refused.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"error":{"#), "\(id): \(refused)")
                #expect(refused.contains(#""code":-32601"#))
            }
            let batch = try exchange(client, #"[{"jsonrpc":"2.0","id":1.50,"method":"no.such"},{"jsonrpc":"2.0","id":-0.0,"method":"no.such"}]"#)
            #expect(batch.hasPrefix(#"[{"jsonrpc":"2.0","id":1.50,"error":"#))
            #expect(batch.contains(#"},{"jsonrpc":"2.0","id":-0.0,"error":"#))
        }
    }

    @Test func aBatchOverTheMemberLimitIsRefusedWhole() async throws {
        try await withServer { server in
            let client = try server.client()
            let reply = try parsed(try exchange(client, Self.batch(65)))
            #expect(reply["id"] == .null)
            #expect(reply["error"] == [
                "code": -32600, "message": "invalid request: a batch of 65 members is over the limit of 64",
                "data": ["limit": "maxBatchMembers", "value": 64],
            ])
            #expect(try parsed(try exchange(client, Self.batch(64))).arrayValue.count == 64)
        }
        try await withServer(["--max-batch-members", "2"]) { server in
            let client = try server.client()
            let reply = try parsed(try exchange(client, Self.batch(3)))
            #expect(reply["error"]?["message"] == "invalid request: a batch of 3 members is over the limit of 2")
            let answered = try parsed(try exchange(client, Self.batch(2))).arrayValue
            #expect(answered.map { $0["id"] } == [1, 2])
        }
    }

    @Test func aBatchThatDoesNotFitTheInFlightLimitIsRefusedWhole() async throws {
        try await withServer(["--max-in-flight", "4"]) { server in
            let client = try server.client()
            let reply = try parsed(try exchange(client, Self.batch(5)))
            #expect(reply["id"] == .null)
            #expect(reply["error"]?["code"] == -32009)
            #expect(reply["error"]?["data"] == ["limit": "maxInFlight", "value": 4])
            #expect(reply["error"]?["message"]
                == "a batch of 5 members does not fit in the 4 requests this connection may have running; wait for their replies or send a smaller batch")
            // Four fit, and their places are given back: again, and a single call.
            for _ in 0..<2 {
                #expect(try parsed(try exchange(client, Self.batch(4))).arrayValue.map { $0["id"] } == [1, 2, 3, 4])
            }
            #expect(try client.call("node.info")["hostname"] != nil)
        }
    }

    @Test(.requiresRoot) func aViewerSendingDeepRequestsDoesNotHoldUpAnOperator() async throws {
        let files = try temporaryDirectory("deep")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let viewer: UInt32 = 54_331
        try "root: operator\nviewers:\n  uids: [\(viewer)]\n".write(toFile: files + "/roles.yaml", atomically: true, encoding: .utf8)
        let attack = files + "/attack.jsonl"
        try String(repeating: Self.deepRequest + "\n", count: 2000).write(toFile: attack, atomically: true, encoding: .utf8)
        chmod(attack, 0o644)
        try await withServer(["--roles", files + "/roles.yaml", "--socket-group", String(viewer)]) { server in
            let operatorClient = try server.client()
            try operatorClient.call("node.info")
            // The viewer's 2000 lines (2 MB) in one stream, its replies read
            // and dropped (a client that does not read is not read either:
            // AbuseTests).
            let attacker = Process()
            attacker.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            attacker.arguments = ["--reuid=\(viewer)", "--regid=\(viewer)", "--clear-groups",
                                  "/usr/bin/socat", "OPEN:\(attack)!!OPEN:/dev/null", "UNIX-CONNECT:\(server.socketPath)"]
            try attacker.run()
            defer {
                // socat, blocked in a write, would not end on SIGTERM.
                if attacker.isRunning { kill(attacker.processIdentifier, SIGKILL) }
                attacker.waitUntilExit()
            }
            usleep(200_000)
            let started = Date()
            for _ in 0..<5 { try operatorClient.call("node.info") }
            // Before the reader, these waited 20 s and more.
            #expect(Date().timeIntervalSince(started) < 5)
        }
    }
}

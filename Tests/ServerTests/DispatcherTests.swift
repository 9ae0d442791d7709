@testable import BpfleetServer
import BpfleetShared
import Foundation
import Testing

/// The dispatcher on its own, without root or a kernel (DispatcherFixture):
/// the JSON-RPC envelope errors, notifications, batches and role refusals,
/// reply by reply, byte for byte where the bytes are fixed. Data objects
/// of more than one key are compared as JSON, since their keys' order is
/// not part of the protocol.
@Suite struct DispatcherTests {
    /// One reply line, parsed.
    func parsed(_ reply: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(reply.utf8))
    }

    func withFixture(roles: String? = nil, _ body: (DispatcherFixture) async throws -> Void) async throws {
        let fixture = try DispatcherFixture(roles: roles)
        defer { fixture.remove() }
        try await body(fixture)
    }

    @Test func aCallIsAnsweredWithItsResult() async throws {
        try await withFixture { node in
            let reply = await node.send(#"{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"hello"}}"#)
            #expect(reply == #"{"jsonrpc":"2.0","id":1,"result":{"text":"hello"}}"# + "\n")
        }
    }

    @Test func aLineThatIsNotJSONIsAParseErrorWithANullID() async throws {
        try await withFixture { node in
            let reply = errorReply(await node.send(#"{"jsonrpc": "2.0", "method": "#))
            #expect(reply?.head == #"{"jsonrpc":"2.0","id":null,"error":"#)
            #expect(reply?.error["code"] == -32700)
            #expect(reply?.error["message"]?.stringValue?.hasPrefix("parse error: ") == true)
            #expect(reply?.error["data"] == nil)
        }
    }

    @Test func anObjectThatIsNotARequestIsAnInvalidRequestKeepingItsID() async throws {
        try await withFixture { node in
            let reply = errorReply(await node.send(#"{"id":9,"method":"test.echo","params":{"text":"x"}}"#))
            #expect(reply?.head == #"{"jsonrpc":"2.0","id":9,"error":"#)
            #expect(reply?.error["code"] == -32600)
            #expect(reply?.error["message"]?.stringValue?.hasPrefix("invalid request: ") == true)
            #expect(CallLog.shared.count("x") == 0)
        }
    }

    @Test func nestingPastTheLimitIsAnInvalidRequestNamingIt() async throws {
        try await withFixture { node in
            let depth = JSONReader.maxDepth + 1
            let line = #"{"jsonrpc":"2.0","id":7,"method":"test.echo","params":{"text":"#
                + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}"
            let reply = try parsed(await node.send(line))
            #expect(reply["id"] == .null)
            #expect(reply["error"]?["code"] == -32600)
            #expect(reply["error"]?["message"]?.stringValue?.hasPrefix("invalid request: ") == true)
            #expect(reply["error"]?["data"] == ["limit": "maxDepth", "value": .int(Int64(JSONReader.maxDepth))])
        }
    }

    @Test func anUnknownMethodIsNotFoundNamingIt() async throws {
        try await withFixture { node in
            let reply = errorReply(await node.send(#"{"jsonrpc":"2.0","id":"abc","method":"no.such"}"#))
            #expect(reply?.head == #"{"jsonrpc":"2.0","id":"abc","error":"#)
            #expect(reply?.error == ["code": -32601, "message": "method not found: no.such", "data": ["method": "no.such"]])
        }
    }

    @Test func paramsOfTheWrongTypeOrShapeAreInvalidParamsNamingTheField() async throws {
        try await withFixture { node in
            let wrongType = try parsed(await node.send(#"{"jsonrpc":"2.0","id":2,"method":"test.echo","params":{"text":5}}"#))
            #expect(wrongType["id"] == 2)
            #expect(wrongType["error"]?["code"] == -32602)
            #expect(wrongType["error"]?["data"] == ["field": "params.text"])
            let byPosition = errorReply(await node.send(#"{"jsonrpc":"2.0","id":3,"method":"test.echo","params":["hello"]}"#))
            #expect(byPosition?.head == #"{"jsonrpc":"2.0","id":3,"error":"#)
            #expect(byPosition?.error == ["code": -32602, "message": "params: must be an object (by-name parameters)", "data": ["field": "params"]])
        }
    }

    @Test func notificationsRunAndGetNoReplyEvenWhenTheyFail() async throws {
        try await withFixture { node in
            let tag = "notified-\(UUID().uuidString)"
            #expect(await node.send(#"{"jsonrpc":"2.0","method":"test.echo","params":{"text":"\#(tag)"}}"#) == "")
            #expect(CallLog.shared.count(tag) == 1)
            #expect(await node.send(#"{"jsonrpc":"2.0","method":"no.such"}"#) == "")
            #expect(await node.send(#"{"jsonrpc":"2.0","method":"test.echo","params":{"text":5}}"#) == "")
        }
    }

    @Test func numericIDsAreEchoedAsSent() async throws {
        try await withFixture { node in
            for id in ["1.0", "1e2", "2E+3", "-0", "-7.25e-3", "18446744073709551615", "1e400"] {
                let answered = await node.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"test.echo","params":{"text":"n"}}"#)
                #expect(answered == #"{"jsonrpc":"2.0","id":\#(id),"result":{"text":"n"}}"# + "\n")
                let refused = errorReply(await node.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"no.such"}"#))
                #expect(refused?.head == #"{"jsonrpc":"2.0","id":\#(id),"error":"#)
                #expect(refused?.error["code"] == -32601)
            }
        }
    }
}

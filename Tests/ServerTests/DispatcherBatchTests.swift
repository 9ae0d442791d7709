@testable import BpfleetServer
import BpfleetShared
import Foundation
import Testing

/// Batches through the dispatcher alone (DispatcherFixture): replies in
/// member order in one array, notifications left out, and the batches
/// refused whole.
@Suite struct DispatcherBatchTests {
    func withFixture(_ body: (DispatcherFixture) async throws -> Void) async throws {
        let fixture = try DispatcherFixture()
        defer { fixture.remove() }
        try await body(fixture)
    }

    @Test func aMixedBatchAnswersEveryRequestInOrderAndNoNotification() async throws {
        try await withFixture { node in
            let tag = "batched-\(UUID().uuidString)"
            let reply = await node.send("""
                [{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"one"}},\
                {"jsonrpc":"2.0","method":"test.echo","params":{"text":"\(tag)"}},\
                {"jsonrpc":"2.0","id":3,"method":"no.such"},\
                {"jsonrpc":"2.0","id":4,"method":"test.echo","params":{"text":4}},\
                5]
                """)
            #expect(reply.hasPrefix(#"[{"jsonrpc":"2.0","id":1,"result":{"text":"one"}},{"jsonrpc":"2.0","id":3,"error":{"#), "\(reply)")
            #expect(reply.hasSuffix("]\n"))
            guard case .array(let members) = try JSONDecoder().decode(JSONValue.self, from: Data(reply.utf8)) else {
                Issue.record("not an array: \(reply)")
                return
            }
            #expect(members.map { $0["id"] } == [1, 3, 4, .null])
            #expect(members.map { $0["error"]?["code"] } == [nil, -32601, -32602, -32600])
            #expect(CallLog.shared.count(tag) == 1)
        }
    }

    @Test func aBatchOfNotificationsAloneGetsNoReply() async throws {
        try await withFixture { node in
            let tag = "silent-\(UUID().uuidString)"
            let member = #"{"jsonrpc":"2.0","method":"test.echo","params":{"text":"\#(tag)"}}"#
            #expect(await node.send("[\(member),\(member)]") == "")
            #expect(CallLog.shared.count(tag) == 2)
        }
    }

    @Test func anEmptyBatchIsAnInvalidRequest() async throws {
        try await withFixture { node in
            let reply = errorReply(await node.send("[]"))
            #expect(reply?.head == #"{"jsonrpc":"2.0","id":null,"error":"#)
            #expect(reply?.error == ["code": -32600, "message": "invalid request: empty batch"])
        }
    }

    @Test func aBatchOverTheMemberLimitIsRefusedWholeAndRunsNothing() async throws {
        try await withFixture { node in
            let tag = "over-\(UUID().uuidString)"
            let member = #"{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"\#(tag)"}}"#
            let refused = await node.send("[\(member),\(member),\(member)]", admission: .unaccounted(maxMembers: 2))
            let reply = try JSONDecoder().decode(JSONValue.self, from: Data(refused.utf8))
            #expect(reply == [
                "jsonrpc": "2.0", "id": .null,
                "error": ["code": -32600, "message": "invalid request: a batch of 3 members is over the limit of 2",
                          "data": ["limit": "maxBatchMembers", "value": 2]],
            ])
            #expect(CallLog.shared.count(tag) == 0)
            let answered = await node.send("[\(member),\(member)]", admission: .unaccounted(maxMembers: 2))
            #expect(answered == "[" + Array(repeating: #"{"jsonrpc":"2.0","id":1,"result":{"text":"\#(tag)"}}"#, count: 2).joined(separator: ",") + "]\n")
        }
    }

    @Test func aBatchThatDoesNotFitTheInFlightPlacesIsRefusedWhole() async throws {
        try await withFixture { node in
            let tag = "crowded-\(UUID().uuidString)"
            let member = #"{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"\#(tag)"}}"#
            let full = BatchAdmission(maxMembers: 64, maxInFlight: 4, claim: { _ in false }, release: { _ in })
            let reply = try JSONDecoder().decode(JSONValue.self, from: Data(await node.send("[\(member),\(member)]", admission: full).utf8))
            #expect(reply["id"] == .null)
            #expect(reply["error"]?["code"] == -32009)
            #expect(reply["error"]?["data"] == ["limit": "maxInFlight", "value": 4])
            #expect(CallLog.shared.count(tag) == 0)
        }
    }
}

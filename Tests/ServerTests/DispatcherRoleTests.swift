@testable import BpfleetServer
import BpfleetShared
import Foundation
import Testing

/// Roles through the dispatcher alone (DispatcherFixture): a peer with no
/// role is unauthenticated (-32001), a viewer calling a change is denied
/// (-32002), and neither call runs (docs/protocol.md, docs/security.md).
@Suite struct DispatcherRoleTests {
    static let viewer = PeerIdentity.unix(uid: 1000, gid: 1000, pid: 42, groups: [])
    static let stranger = PeerIdentity.unix(uid: 2000, gid: 2000, pid: 43, groups: [])

    func withFixture(_ body: (DispatcherFixture) async throws -> Void) async throws {
        let fixture = try DispatcherFixture(roles: "viewers:\n  uids: [1000]\n")
        defer { fixture.remove() }
        try await body(fixture)
    }

    func change(_ tag: String, id: String? = "1") -> String {
        let head = id.map { #"{"jsonrpc":"2.0","id":\#($0),"# } ?? #"{"jsonrpc":"2.0","#
        return head + #""method":"test.change","params":{"tag":"\#(tag)"}}"#
    }

    @Test func aViewerReadsButIsDeniedAChange() async throws {
        try await withFixture { node in
            let read = await node.send(#"{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"seen"}}"#, from: Self.viewer)
            #expect(read == #"{"jsonrpc":"2.0","id":1,"result":{"text":"seen"}}"# + "\n")
            let tag = "denied-\(UUID().uuidString)"
            let denied = errorReply(await node.send(change(tag), from: Self.viewer))
            #expect(denied?.head == #"{"jsonrpc":"2.0","id":1,"error":"#)
            #expect(denied?.error == ["code": -32002, "message": "permission denied: test.change needs operator (you are viewer)",
                                      "data": ["method": "test.change", "needs": "operator", "role": "viewer"]])
            #expect(await node.send(change(tag, id: nil), from: Self.viewer) == "")
            #expect(CallLog.shared.count(tag) == 0)
        }
    }

    @Test func aPeerWithNoRoleIsUnauthenticatedEvenToRead() async throws {
        try await withFixture { node in
            let reply = errorReply(await node.send(#"{"jsonrpc":"2.0","id":5,"method":"test.echo","params":{"text":"no"}}"#, from: Self.stranger))
            #expect(reply?.head == #"{"jsonrpc":"2.0","id":5,"error":"#)
            #expect(reply?.error == ["code": -32001, "message": "unauthenticated: uid=2000 gid=2000 pid=43 has no role on this node",
                                     "data": ["identity": "uid=2000 gid=2000 pid=43"]])
        }
    }

    @Test func rootIsAnOperatorByDefault() async throws {
        try await withFixture { node in
            let tag = "changed-\(UUID().uuidString)"
            #expect(await node.send(change(tag)) == #"{"jsonrpc":"2.0","id":1,"result":{}}"# + "\n")
            #expect(CallLog.shared.count(tag) == 1)
        }
    }

    @Test func aRefusalIsAnsweredBeforeTheParamsAreRead() async throws {
        try await withFixture { node in
            let reply = errorReply(await node.send(#"{"jsonrpc":"2.0","id":6,"method":"test.change","params":{"tag":5}}"#, from: Self.viewer))
            #expect(reply?.head == #"{"jsonrpc":"2.0","id":6,"error":"#)
            #expect(reply?.error["code"] == -32002)
        }
    }
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// The contract on the wire: what a real node says of itself, and that
/// each read answers the same bytes twice.
@Suite(.requiresKernel)
struct ProtocolContractTests {
    @Test func rpcDiscoverAnswersTheContractTheCodeMakesAndNodeInfoNamesTheProtocol() async throws {
        try await withServer { server in
            let client = try server.client()
            let document = try client.call("rpc.discover")
            // As bytes: 4294967295 reads back as a signed integer.
            #expect(try JSONEncoder.wire().encode(document) == JSONEncoder.wire().encode(Contract().openRPC))
            #expect(document["info"]?["version"] == .string(ProtocolV1.version))
            let info = try client.call("node.info")
            #expect(info["protocolVersion"] == .string(ProtocolV1.version))
            #expect(info["methods"] == .array(ProtocolV1.methodNames.map { .string($0) }))
        }
    }

    @Test func theSameReadTwiceIsTheSameBytes() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("syscall_count")
            // Loaded, not attached: its programs do not run, so their run
            // counts (in probe.get) stay where they are.
            try client.call("probe.load", ["name": "same", "objectId": .string(objectId), "labels": ["b": "2", "a": "1", "c": "3"]])
            try client.call("map.update", ["map": ["probe": "same", "name": "syscalls"], "key": 7, "value": 70])
            let map: JSONValue = ["probe": "same", "name": "syscalls"]
            let reads: [(String, JSONValue?)] = [
                ("node.info", nil), ("rpc.discover", nil), ("object.list", nil), ("object.get", ["objectId": .string(objectId)]),
                ("probe.list", nil), ("probe.get", ["probe": "same"]), ("map.list", ["probe": "same"]),
                ("map.snapshot", ["map": map]), ("map.lookup", ["map": map, "key": 7]),
                ("node.btf", ["format": "c", "offset": 1000, "maxBytes": 4096]),
            ]
            // Each read method of the protocol is here but those whose answer
            // is live kernel state: iter.read (tasks come and go; how it is
            // written is IteratorOutputTests'), and the node inventory (other
            // tests' programs come and go, run counts move; its order is by
            // kernel id, NodeInventoryTests'). Subscriptions answer an id.
            // node.metrics too: its text holds the call counts of these reads.
            let covered = Set(reads.map(\.0) + ["iter.read", "node.programs", "node.maps", "node.links", "node.metrics",
                                                 "map.watch", "events.subscribe", "subscription.cancel"])
            let readMethods = ProtocolV1.methods.filter { !$0.changesNode }.map { $0.method }
            #expect(Set(readMethods).subtracting(covered).isEmpty, "a read method this test does not read twice")
            for (method, params) in reads {
                let first = try rawResult(client, method, params)
                let second = try rawResult(client, method, params)
                #expect(first == second, "\(method) answered different bytes:\n\(first)\n\(second)")
            }
            try client.call("probe.unload", ["probe": "same"])
        }
    }

    @Test func aMethodTheNodeLacksIsNamedWithTheNodesVersion() async throws {
        try await withServer { server in
            let run = try bpfleet(["-n", server.address, "call", "map.frobnicate", "{}"])
            #expect(run.status == 1)
            #expect(run.stderr.contains("node \(server.address) runs bpfleetd 0.1.0, which has no method map.frobnicate"), "\(run.stderr)")
            let json = try bpfleet(["-n", server.address, "-o", "json", "call", "map.frobnicate", "{}"])
            let error = try #require(json.json?.arrayValue.first?["error"])
            #expect(error["code"] == -32601)
            #expect(error["message"] == .string("node \(server.address) runs bpfleetd 0.1.0, which has no method map.frobnicate"))
            #expect(error["data"] == ["method": "map.frobnicate"])
        }
    }

    /// The reply's bytes from `"result":` on, the time-dependent members
    /// (node.info's uptime, a snapshot's read time) blanked: the rest must
    /// be the same bytes each time.
    private func rawResult(_ client: LineClient, _ method: String, _ params: JSONValue?) throws -> String {
        var request: [String: JSONValue] = ["jsonrpc": "2.0", "id": 1, "method": .string(method)]
        if let params { request["params"] = params }
        try client.send(String(decoding: try JSONEncoder().encode(JSONValue.object(request)), as: UTF8.self))
        let line = String(decoding: try #require(try client.readLine()), as: UTF8.self)
        #expect(line.hasPrefix(#"{"jsonrpc":"2.0","id":1,"result":"#), "\(line.prefix(200))")
        return line.replacing(/"uptimeSeconds":[0-9.e+-]+/, with: #""uptimeSeconds":0"#)
            .replacing(/"takenAt":"[^"]*"/, with: #""takenAt":"""#)
    }
}

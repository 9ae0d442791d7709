@testable import BpfleetClient
import BpfleetShared
import Foundation
import NIOCore
import Testing

private func text(_ parts: [ByteBuffer]) -> String {
    parts.map { String(decoding: $0.readableBytesView, as: UTF8.self) }.joined()
}

@Suite("json and ndjson elements")
struct EnvelopeTests {
    @Test("a result is passed through exactly as the node sent it")
    func resultPassThrough() {
        let raw = #"{ "entries" : [ {"key":18446744073709551615,"value":"é\"]}"} ],"count":1 }"#
        let line = ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":"# + raw + "}")
        // The result as NodeConnection hands it on: a slice of the line.
        let result = line.getSlice(at: 33, length: raw.utf8.count)!
        let parts = Envelope.parts(node: .unix(path: "/run/a.sock"), result: .success(result))
        #expect(text(parts) == #"{"node":"unix:/run/a.sock","address":"unix:/run/a.sock","ok":true,"result":"# + raw + "}")
        // The result is not copied into a new buffer.
        #expect(parts[1] == result)
    }

    @Test("a server error keeps code, message and data")
    func serverError() throws {
        let error = MethodFailure(method: "probe.load", error: ResponseError(
            .verifierRejected, "program 'x' rejected", data: ["program": "x", "log": "a\nb\n", "errno": 13]))
        let element = text(Envelope.parts(node: .tcp(host: "10.0.0.1", port: 7447), result: .failure(error)))
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(element.utf8))
        #expect(decoded == [
            "node": "tcp://10.0.0.1:7447",
            "address": "tcp://10.0.0.1:7447",
            "ok": false,
            "error": ["code": -32006, "message": "program 'x' rejected", "data": ["program": "x", "log": "a\nb\n", "errno": 13]],
        ])
        #expect(!element.contains("\n"))
    }

    @Test("a client failure says its kind and message")
    func clientFailure() throws {
        let node = NodeAddress.unix(path: "/tmp/we\"ird.sock")
        let error = ClientError.cannotConnect(node, reason: "Connection refused", hint: "is bpfleetd running?")
        let element = text(Envelope.parts(node: node, result: .failure(error)))
        #expect(element == #"{"node":"unix:/tmp/we\"ird.sock","address":"unix:/tmp/we\"ird.sock","ok":false,"error":{"kind":"unreachable","message":"cannot connect to unix:/tmp/we\"ird.sock: Connection refused (is bpfleetd running?)"}}"#)
    }

    @Test("each client failure has a kind for scripts")
    func kinds() {
        let node = NodeAddress.unix(path: "/x")
        #expect(ClientError.timedOut(node, after: .seconds(1)).kind == "timeout")
        #expect(ClientError.connectionClosed(node, reason: nil).kind == "disconnected")
        #expect(ClientError.malformedMessage(node, detail: "").kind == "protocol")
        #expect(ClientError.unsupported(node, detail: "").kind == "unsupported")
    }

    @Test("JSON strings escape quotes, backslashes and control characters only")
    func stringEscaping() {
        var buffer = ByteBuffer()
        buffer.writeJSONString("a\"b\\c\nd\u{01}é")
        #expect(String(decoding: buffer.readableBytesView, as: UTF8.self) == #""a\"b\\c\nd\u0001é""#)
    }

    @Test("durations read the way an operator wrote them")
    func durations() {
        #expect(ClientError.format(.seconds(10)) == "10s")
        #expect(ClientError.format(.milliseconds(1500)) == "1.5s")
        #expect(ClientError.format(.milliseconds(250)) == "250ms")
    }
}

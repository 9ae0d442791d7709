import BpfleetShared
import Foundation
import Testing

/// Decodes `json` as `type` and returns what `ResponseError.describing`
/// makes of the failure.
private func failure<T: Decodable>(
    _ type: T.Type, _ json: String, root: String = "params", sourceLocation: SourceLocation = #_sourceLocation
) throws -> (path: String, message: String) {
    let error = try #require(throws: DecodingError.self, sourceLocation: sourceLocation) {
        try decodeWire(T.self, json)
    }
    return ResponseError.describing(error, root: root)
}

@Suite("ResponseError.describing")
struct ResponseErrorDescribingTests {
    @Test func typeMismatchInsideADictionary() throws {
        let described = try failure(ProbeLoad.self, #"{"name":"web","objectId":"sha256:00","labels":{"team":5}}"#)
        #expect(described.path == "params.labels.team")
        #expect(described.message == "params.labels.team: expected string")
    }

    @Test func typeMismatchOfAnArrayElement() throws {
        let described = try failure(ProbeLoad.self, #"{"name":"web","objectId":"sha256:00","programs":["a",7]}"#)
        #expect(described.path == "params.programs[1]")
        #expect(described.message == "params.programs[1]: expected string")
    }

    @Test func typeMismatchNamesTheExpectedJSONType() throws {
        #expect(try failure(ProbeLoad.self, #"{"name":5,"objectId":"x"}"#).message == "params.name: expected string")
        #expect(try failure(ProbeLoad.self, #"{"name":"a","objectId":"x","programs":"p"}"#).message
            == "params.programs: expected array")
        #expect(try failure(ProbeLoad.self, #"{"name":"a","objectId":"x","labels":5}"#).message
            == "params.labels: expected object")
        #expect(try failure(ProbeLoad.self, #"{"name":"a","objectId":"x","globals":[1]}"#).message
            == "params.globals: expected object")
        #expect(try failure(ProbeDetach.self, #"{"probe":"a","linkId":"1"}"#).message == "params.linkId: expected integer")
        #expect(try failure(ProbeAttach.self, #"{"probe":"a","program":"b","target":{"type":"kprobe","function":"f","retprobe":"yes"}}"#).message
            == "params.target.retprobe: expected boolean")
    }

    @Test func keyNotFoundAtTheTop() throws {
        let described = try failure(ProbeLoad.self, #"{"name":"web"}"#)
        #expect(described.path == "params.objectId")
        #expect(described.message == "params.objectId: missing")
    }

    @Test func keyNotFoundInANestedObject() throws {
        let described = try failure(ProbeAttach.self, #"{"probe":"p","program":"q","target":{"type":"tracepoint","category":"sched"}}"#)
        #expect(described.path == "params.target.name")
        #expect(described.message == "params.target.name: missing")
    }

    @Test func valueNotFound() throws {
        let described = try failure(ProbeLoad.self, #"{"name":null,"objectId":"x"}"#)
        #expect(described.path == "params.name")
        #expect(described.message == "params.name: expected string, got null")
    }

    @Test func dataCorruptedCarriesTheDecodersText() throws {
        let described = try failure(ProbeAttach.self, #"{"probe":"p","program":"q","target":{"type":"bogus"}}"#)
        #expect(described.path == "params.target.type")
        #expect(described.message == "params.target.type: unknown target type 'bogus' (one of: tracepoint, raw_tracepoint, tp_btf, uprobe, usdt, kprobe, fentry, fexit, xdp, tc, cgroup, perf_event, auto)")
    }

    @Test func emptyRootStartsWithTheFirstKey() throws {
        let described = try failure(ProbeLoad.self, #"{"name":"web","objectId":"x","labels":{"team":5}}"#, root: "")
        #expect(described.path == "labels.team")
        #expect(described.message == "labels.team: expected string")
        let index = try failure([String].self, #"["a",1]"#, root: "")
        #expect(index.path == "[1]")
    }

    @Test func decodingThroughParamsBoxIncludesParamsInThePath() throws {
        let described = try failure(
            ParamsBox<ProbeLoad>.self, #"{"jsonrpc":"2.0","id":1,"params":{"name":"web","objectId":"x","labels":{"team":5}}}"#, root: "")
        #expect(described.path == "params.labels.team")
    }

    /// An object member whose name looks like a number is still a member,
    /// not an array index: `labels.1`, not `labels[1]`.
    @Test func numericObjectKeyIsNotShownAsAnIndex() throws {
        let described = try failure(ProbeLoad.self, #"{"name":"web","objectId":"x","labels":{"1":5}}"#)
        #expect(described.path == "params.labels.1")
        #expect(described.message == "params.labels.1: expected string")
    }
}

@Suite("ResponseError and ErrorCode")
struct ResponseErrorTests {
    @Test func helpersBuildTheDocumentedCodesAndData() {
        #expect(ResponseError.invalidParams("bad", field: "name") == ResponseError(.invalidParams, "bad", data: ["field": "name"]))
        #expect(ResponseError.invalidParams("bad").data == nil)
        let notFound = ResponseError.notFound("probe", "web")
        #expect(notFound.code.rawValue == -32003)
        #expect(notFound.message == "probe 'web' not found")
        #expect(notFound.data == ["kind": "probe", "name": "web"])
        #expect(ResponseError.unsupported("BPF_LINK_TYPE_UPROBE_MULTI", "no multi-uprobe").data == ["feature": "BPF_LINK_TYPE_UPROBE_MULTI"])
        let limit = ResponseError.limitExceeded("maxMessageBytes", 67_108_864, "too big")
        #expect(limit.code.rawValue == -32009)
        #expect(limit.data == ["limit": "maxMessageBytes", "value": .int(67_108_864)])
    }

    @Test func codesMatchTheDesign() {
        let expected: [(ErrorCode, Int, String)] = [
            (.parseError, -32700, "parse error"), (.invalidRequest, -32600, "invalid request"),
            (.methodNotFound, -32601, "method not found"), (.invalidParams, -32602, "invalid params"),
            (.internalError, -32603, "internal error"), (.unauthenticated, -32001, "unauthenticated"),
            (.permissionDenied, -32002, "permission denied"), (.notFound, -32003, "not found"),
            (.conflict, -32004, "conflict"), (.invalidObject, -32005, "invalid object"),
            (.verifierRejected, -32006, "verifier rejected"), (.attachFailed, -32007, "attach failed"),
            (.unsupported, -32008, "unsupported"), (.limitExceeded, -32009, "limit exceeded"),
            (.kernelError, -32010, "kernel error"),
        ]
        for (code, raw, name) in expected {
            #expect(code.rawValue == raw)
            #expect(code.name == name)
        }
        #expect(ErrorCode(rawValue: -1).name == "error -1")
        #expect(ErrorCode.notFound.description == "-32003 (not found)")
    }

    @Test func wireForm() throws {
        let error = ResponseError(.verifierRejected, "rejected", data: ["program": "p", "errno": 13])
        let encoder = JSONEncoder.wire()
        encoder.outputFormatting.insert(.sortedKeys)
        let text = String(decoding: try encoder.encode(error), as: UTF8.self)
        #expect(text == #"{"code":-32006,"data":{"errno":13,"program":"p"},"message":"rejected"}"#)
        #expect(try decodeWire(ResponseError.self, text) == error)
    }
}

import BpfleetShared
import Testing

/// The envelope of a line as the dispatcher reads it (a batch as one
/// array value, to see it refused as a request).
private func envelope(_ json: String) throws -> RequestEnvelope {
    switch try JSONReader.read(json) {
    case .single(let member): RequestEnvelope(member)
    case .batch(_, let members): RequestEnvelope(JSONReader.Member(value: .array(members.map(\.value))))
    }
}

private let versionProblem = #""jsonrpc" must be "2.0""#
private let idProblem = #""id" must be a string, a number or null"#
private let methodProblem = #""method" must be a string"#
private let paramsProblem = #""params" must be an object or an array"#

@Suite("RequestEnvelope")
struct RequestEnvelopeTests {
    @Test func requestWithNumericID() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":42,"method":"probe.get","params":{"probe":"p"}}"#)
        #expect(request.id == .id(.number("42")))
        #expect(request.id.replyID == .number("42"))
        #expect(request.method == "probe.get")
        #expect(request.problem == nil)
        #expect(request.hasParams)
        #expect(request.paramsAreObject)
    }

    @Test func requestWithNegativeAndLargeNumericIDs() throws {
        #expect(try envelope(#"{"jsonrpc":"2.0","id":-1,"method":"m"}"#).id == .id(.number("-1")))
        #expect(try envelope(#"{"jsonrpc":"2.0","id":9223372036854775807,"method":"m"}"#).id == .id(.number("9223372036854775807")))
    }

    @Test(arguments: ["1.5", "1.0", "18446744073709551615", "-0", "1e400", "2E+3", "-1.25e-7", "0"])
    func anyJSONNumberIsAnIDKeptAsItsText(text: String) throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":\#(text),"method":"node.info"}"#)
        #expect(request.id == .id(.number(text)))
        #expect(request.problem == nil)
    }

    @Test func theLastIDWins() throws {
        #expect(try envelope(#"{"jsonrpc":"2.0","id":1.0,"id":"s","method":"m"}"#).id == .id(.string("s")))
        #expect(try envelope(#"{"jsonrpc":"2.0","id":"s","id":1.0,"method":"m"}"#).id == .id(.number("1.0")))
    }

    @Test func defectsInParamsAreKeptForInvalidParams() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":1,"method":"map.update","params":{"value":1e400}}"#)
        #expect(request.problem == nil)
        #expect(request.paramsDefect?.field == "params.value")
        #expect(request.paramsDefect?.problem == "number out of range")
    }

    @Test(arguments: [
        (#"{"jsonrpc":"2.0","id":1,"method":"node.\ud800"}"#, #"method: string holds a lone surrogate (\ud800)"#),
        (#"{"jsonrpc":"2.0","id":1,"method":"node.info","extra":[1e400]}"#, "extra[0]: number out of range"),
    ])
    func defectsOutsideParamsAreInvalidRequests(json: String, problem: String) throws {
        let request = try envelope(json)
        #expect(request.problem == problem)
        #expect(request.paramsDefect == nil)
        #expect(request.id == .id(.number("1")))
    }

    @Test func anIDHoldingALoneSurrogateIsNotEchoed() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":"a\udc00","method":"node.info"}"#)
        #expect(request.id == .invalid)
        #expect(request.id.replyID == nil)
        #expect(request.problem == #"id: string holds a lone surrogate (\udc00)"#)
    }

    @Test func requestWithStringID() throws {
        let request = try envelope(#"{"id":"abc-1","method":"node.info","jsonrpc":"2.0"}"#)
        #expect(request.id == .id(.string("abc-1")))
        #expect(request.id.replyID == .string("abc-1"))
        #expect(request.method == "node.info")
        #expect(request.problem == nil)
        #expect(!request.hasParams)
        #expect(!request.paramsAreObject)
    }

    @Test func numericLookingStringIDStaysAString() throws {
        #expect(try envelope(#"{"jsonrpc":"2.0","id":"7","method":"m"}"#).id == .id(.string("7")))
    }

    @Test func notificationHasAbsentID() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","method":"subscription.cancel","params":{"subscription":"s1"}}"#)
        #expect(request.id == .absent)
        #expect(request.id.replyID == nil)
        #expect(request.method == "subscription.cancel")
        #expect(request.problem == nil)
        #expect(request.paramsAreObject)
    }

    @Test func nullID() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":null,"method":"node.info"}"#)
        #expect(request.id == .null)
        #expect(request.id.replyID == nil)
        #expect(request.problem == nil)
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","id":{"a":1},"method":"node.info"}"#,
        #"{"jsonrpc":"2.0","id":[1],"method":"node.info"}"#,
        #"{"jsonrpc":"2.0","id":true,"method":"node.info"}"#,
        #"{"jsonrpc":"2.0","id":false,"method":"node.info"}"#,
    ])
    func invalidIDTypes(json: String) throws {
        let request = try envelope(json)
        #expect(request.id == .invalid)
        #expect(request.id.replyID == nil)
        #expect(request.method == "node.info")
        #expect(request.problem == idProblem)
    }

    @Test func missingVersion() throws {
        let request = try envelope(#"{"id":1,"method":"node.info"}"#)
        #expect(request.id == .id(.number("1")))
        #expect(request.method == "node.info")
        #expect(request.problem == versionProblem)
    }

    @Test(arguments: [#""1.0""#, #""2""#, "2.0", "null"])
    func wrongVersion(version: String) throws {
        let request = try envelope(#"{"jsonrpc":\#(version),"id":3,"method":"node.info"}"#)
        #expect(request.id == .id(.number("3")))
        #expect(request.problem == versionProblem)
    }

    @Test func versionProblemIsReportedBeforeAnInvalidID() throws {
        let request = try envelope(#"{"jsonrpc":"1.0","id":true,"method":"m"}"#)
        #expect(request.id == .invalid)
        #expect(request.problem == versionProblem)
    }

    @Test(arguments: ["5", "null", "[\"node.info\"]", "{}", "true"])
    func methodNotAString(method: String) throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":9,"method":\#(method)}"#)
        #expect(request.id == .id(.number("9")))
        #expect(request.method == nil)
        #expect(request.problem == methodProblem)
    }

    @Test func missingMethod() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":"x"}"#)
        #expect(request.method == nil)
        #expect(request.problem == methodProblem)
    }

    @Test func paramsAsArrayIsAValidRequest() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":1,"method":"probe.get","params":["p"]}"#)
        #expect(request.problem == nil)
        #expect(request.hasParams)
        #expect(!request.paramsAreObject)
    }

    @Test func paramsAsEmptyObject() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":1,"method":"node.info","params":{}}"#)
        #expect(request.problem == nil)
        #expect(request.hasParams)
        #expect(request.paramsAreObject)
    }

    @Test(arguments: [#""p""#, "3", "1.5", "true"])
    func paramsNeitherObjectNorArray(params: String) throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":1,"method":"probe.get","params":\#(params)}"#)
        #expect(request.id == .id(.number("1")))
        #expect(request.method == "probe.get")
        #expect(request.hasParams)
        #expect(!request.paramsAreObject)
        #expect(request.problem == paramsProblem)
    }

    @Test(arguments: ["[1,2]", "[]", #""node.info""#, "42", "null", "true"])
    func nonObjectTopLevel(json: String) throws {
        let request = try envelope(json)
        #expect(request.id == .absent)
        #expect(request.method == nil)
        #expect(request.problem == "a request must be a JSON object")
        #expect(!request.hasParams)
        #expect(!request.paramsAreObject)
    }

    @Test func unknownMembersAreIgnored() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":1,"method":"m","extra":[1,{"x":2}]}"#)
        #expect(request.problem == nil)
        #expect(request.method == "m")
    }

    @Test func paramsAreKeptAsRead() throws {
        let request = try envelope(#"{"jsonrpc":"2.0","id":1,"method":"probe.get","params":{"probe":"web","n":[1,2.5]}}"#)
        #expect(request.params == ["probe": "web", "n": [1, .double(2.5)]])
    }

    @Test func paramsBoxDecodesOnlyParams() throws {
        let json = #"{"jsonrpc":"2.0","id":1,"method":"probe.get","params":{"probe":"web"}}"#
        let box = try decodeWire(ParamsBox<ProbeGet>.self, json)
        #expect(box.params.probe == "web")
    }
}

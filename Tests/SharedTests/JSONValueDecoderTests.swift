import BpfleetShared
import Testing

/// Params as bpfleetd decodes them: read by JSONReader, decoded from the
/// tree, an error named by its path under `params`.
private func params<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    guard case .single(let member) = try JSONReader.read(json) else { throw DecodingError.valueNotFound(T.self, .init(codingPath: [], debugDescription: "a batch")) }
    return try JSONValueDecoder.decode(type, from: member.value)
}

private func failure<T: Decodable>(_ type: T.Type, _ json: String) throws -> (path: String, message: String)? {
    do {
        _ = try params(type, json)
        return nil
    } catch let error as DecodingError {
        return ResponseError.describing(error, root: "params")
    }
}

@Suite("JSONValueDecoder")
struct JSONValueDecoderTests {
    @Test func decodesParamsWithOptionalsNestedEnumsAndJSONValues() throws {
        let load = try params(ProbeLoad.self, #"{"name":"web","objectId":"x","globals":{"g":[1,2.5,{"k":null}]},"attach":[{"program":"p","target":{"type":"tc","interface":"lo","direction":"ingress","priority":7}}]}"#)
        #expect(load.name == "web" && load.objectId == "x" && load.labels == nil && load.replace == nil)
        #expect(load.globals == ["g": [1, .double(2.5), ["k": nil]]])
        #expect(load.attach == [.init(program: "p", target: .tc(interface: "lo", direction: "ingress", priority: 7))])
        let update = try params(MapUpdate.self, #"{"map":{"id":12},"key":18446744073709551615,"value":"v","format":"hex"}"#)
        #expect(update.map == .id(12))
        #expect(update.key == .uint(.max))
        #expect(update.format == .hex)
        #expect(update.flags == nil)
    }

    @Test(arguments: ["5.0", "5e0", "50E-1"])
    func wholeNumbersWrittenAsDoublesAreIntegers(text: String) throws {
        #expect(try params(ProbeDetach.self, #"{"probe":"p","linkId":\#(text)}"#).linkId == 5)
    }

    @Test(arguments: [
        (#"{"probe":"p","linkId":5.5}"#, "params.linkId", "params.linkId: expected integer"),
        (#"{"probe":"p","linkId":"5"}"#, "params.linkId", "params.linkId: expected integer"),
        (#"{"probe":"p","linkId":18446744073709551615}"#, "params.linkId",
         "params.linkId: 18446744073709551615 is out of range: expected a whole number from \(Int.min) to \(Int.max)"),
        (#"{"probe":"p","linkId":1e30}"#, "params.linkId",
         "params.linkId: 1e+30 is out of range: expected a whole number from \(Int.min) to \(Int.max)"),
        (#"{"probe":"p"}"#, "params.linkId", "params.linkId: missing"),
        (#"{"probe":null,"linkId":1}"#, "params.probe", "params.probe: expected string, got null"),
    ])
    func errorsNameTheField(json: String, path: String, message: String) throws {
        let described = try failure(ProbeDetach.self, json)
        #expect(described?.path == path)
        #expect(described?.message == message)
    }

    @Test func anIntegerOutOfItsFieldsRangeNamesTheNestedField() throws {
        let described = try failure(ProbeLoad.self, #"{"name":"a","objectId":"x","attach":[{"program":"p","target":{"type":"uprobe","binary":"/bin/true","pid":4294967296}}]}"#)
        #expect(described?.path == "params.attach[0].target.pid")
    }
}

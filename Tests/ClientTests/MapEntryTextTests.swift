@testable import BpfleetClient
import NIOCore
import Testing

@Suite("map entries as text")
struct MapEntryTextTests {
    @Test("snapshot entries keep the node's own JSON text")
    func snapshot() throws {
        let result = ByteBuffer(string: #"{"entries":[{"key":1,"value":{"comm":"a,]}\"","pid":2}} , {"key":"k","value":[1,[2]]},{"value":null,"key":{"x":"y"}}],"count":3,"truncated":true,"takenAt":"2025-01-01T00:00:00Z"}"#)
        let (entries, truncated) = try MapEntryText.snapshot(result)
        #expect(truncated)
        #expect(entries.map(\.key) == ["1", #""k""#, #"{"x":"y"}"#])
        #expect(entries.map(\.value) == [#"{"comm":"a,]}\"","pid":2}"#, "[1,[2]]", "null"])
    }

    @Test("an empty map, and malformed results")
    func edges() throws {
        #expect(try MapEntryText.snapshot(ByteBuffer(string: #"{"entries":[ ],"count":0,"truncated":false}"#)).entries.isEmpty)
        #expect(throws: (any Error).self) { try MapEntryText.snapshot(ByteBuffer(string: #"{"count":0}"#)) }
        #expect(throws: (any Error).self) { try MapEntryText.snapshot(ByteBuffer(string: #"{"entries":[{"key":1}]}"#)) }
        #expect(throws: (any Error).self) { try MapEntryText.snapshot(ByteBuffer(string: #"{"entries":[1 2]}"#)) }
    }

    @Test("array elements are found around strings holding brackets and commas")
    func elements() throws {
        let text = #"[ "a]", {"b":"}\\"}, [1,2] ,3 ,true]"#
        let ranges = try Array(text.utf8).withUnsafeBytes { try JSONElements.ranges(of: $0) }
        let bytes = Array(text.utf8)
        #expect(ranges.map { String(decoding: bytes[$0], as: UTF8.self) } == [#""a]""#, #"{"b":"}\\"}"#, "[1,2]", "3", "true"])
    }
}

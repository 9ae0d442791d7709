import BpfleetServer
import BpfleetShared
import Foundation
import NIOCore
import Testing

private func text(_ build: (inout JSONWriter) -> Void) -> String {
    var writer = JSONWriter(buffer: ByteBuffer())
    build(&writer)
    return String(buffer: writer.buffer)
}

private func bytes(_ build: (inout JSONWriter) -> Void) -> [UInt8] {
    var writer = JSONWriter(buffer: ByteBuffer())
    build(&writer)
    return Array(writer.buffer.readableBytesView)
}

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test(arguments: [
        (UInt64(0), "0"), (9, "9"), (10, "10"), (99, "99"), (100, "100"), (1_000_000, "1000000"),
        (UInt64(Int64.max), "9223372036854775807"), (.max, "18446744073709551615"),
    ] as [(UInt64, String)])
    func unsignedIntegers(value: UInt64, expected: String) {
        #expect(text { $0.uint(value) } == expected)
    }

    @Test(arguments: [
        (Int64(0), "0"), (9, "9"), (10, "10"), (-1, "-1"), (-9, "-9"), (-10, "-10"),
        (.max, "9223372036854775807"), (.min, "-9223372036854775808"),
    ] as [(Int64, String)])
    func signedIntegers(value: Int64, expected: String) {
        #expect(text { $0.int(value) } == expected)
    }

    @Test func integersInARowDoNotShareScratch() {
        #expect(text { $0.uint(.max); $0.byte(UInt8(ascii: ",")); $0.uint(10); $0.byte(UInt8(ascii: ",")); $0.int(.min) }
            == "18446744073709551615,10,-9223372036854775808")
    }

    @Test func doubles() {
        #expect(text { $0.double(1.5) } == "1.5")
        #expect(text { $0.double(-0.25) } == "-0.25")
        #expect(text { $0.double(1e300) } == "1e+300")
        #expect(text { $0.double(.nan) } == "null")
        #expect(text { $0.double(.infinity) } == "null")
        #expect(text { $0.double(-.infinity) } == "null")
    }

    @Test func objectsWithNumberTextWriteItAsSentInKeyOrder() {
        #expect(text { $0.object(["method": "m", "a": 1], numbers: ["id": "1.50"]) } == #"{"a":1,"id":1.50,"method":"m"}"#)
        #expect(text { $0.object(["b": true], numbers: ["id": "1e400", "a": "-0"]) } == #"{"a":-0,"b":true,"id":1e400}"#)
        #expect(text { $0.object(["a": [1, "x"]], numbers: [:]) } == text { $0.value(["a": [1, "x"]]) })
    }

    @Test func booleans() {
        #expect(text { $0.bool(true) } == "true")
        #expect(text { $0.bool(false) } == "false")
    }

    @Test func quoteAndBackslashAreEscaped() {
        #expect(text { $0.string(#"say "hi" \ bye"#) } == #""say \"hi\" \\ bye""#)
        #expect(text { $0.string(#"\""#) } == #""\\\"""#)
    }

    @Test func controlCharactersAreEscaped() {
        #expect(text { $0.string("a\nb\rc\td") } == #""a\nb\rc\td""#)
        #expect(text { $0.string("\u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}\u{1f}") } == #""\u0000\u0001\u0008\u000b\u000c\u001b\u001f""#)
    }

    @Test func everythingElsePassesThrough() {
        #expect(text { $0.string(" ~/\u{7f}") } == "\" ~/\u{7f}\"")
        #expect(text { $0.string("") } == #""""#)
    }

    @Test func nonASCIIIsWrittenAsUTF8() {
        let value = "é ü 中 😀"
        #expect(bytes { $0.string(value) } == [0x22] + Array(value.utf8) + [0x22])
    }

    @Test func escapesAtTheEdges() {
        #expect(text { $0.string("\"") } == #""\"""#)
        #expect(text { $0.string("\n\n") } == #""\n\n""#)
        #expect(text { $0.string("x\u{1}") } == #""x\u0001""#)
        #expect(text { $0.string("\u{1}x") } == #""\u0001x""#)
    }

    @Test(arguments: [
        "", "plain", "quote \" backslash \\ slash /", "\u{0}\u{7}\u{1f}\n\r\t", "é😀中", "\"\\\"\\", String(repeating: "\u{1}é", count: 50),
    ])
    func stringsParseBackToThemselves(value: String) throws {
        let written = text { $0.string(value) }
        #expect(try JSONDecoder().decode(String.self, from: Data(written.utf8)) == value)
    }

    @Test func stringFromUTF8Bytes() {
        let raw = Array("a\"é".utf8)
        #expect(text { writer in raw.withUnsafeBytes { writer.string(utf8: $0) } } == #""a\"é""#)
    }

    @Test func hexString() {
        let raw: [UInt8] = [0x00, 0x0f, 0xf0, 0xff, 0x5a]
        #expect(text { writer in raw.withUnsafeBytes { writer.hexString($0) } } == #""000ff0ff5a""#)
        #expect(text { writer in [UInt8]().withUnsafeBytes { writer.hexString($0) } } == #""""#)
    }

    @Test func valuesWithSortedKeys() {
        let value: JSONValue = [
            "b": 1, "a": [true, nil, "x\n"], "c": ["z": .uint(.max), "y": .int(.min), "x": .double(0.5)], "": [:],
        ]
        #expect(text { $0.value(value) }
            == #"{"":{},"a":[true,null,"x\n"],"b":1,"c":{"x":0.5,"y":-9223372036854775808,"z":18446744073709551615}}"#)
    }

    @Test func valueRoundTripsThroughJSONDecoder() throws {
        let value: JSONValue = ["list": [1, -2, .uint(.max), .int(.min), .double(2.5), "s\u{1}", false, nil], "empty": []]
        #expect(try parsedJSON(text { $0.value(value) }) == value)
    }

    @Test func writesAfterWhatTheBufferHeld() {
        var writer = JSONWriter(buffer: ByteBuffer(string: "x="))
        writer.raw("[")
        writer.bytes([0x31, 0x32])
        writer.bytes(ByteBuffer(string: ",3"))
        writer.byte(UInt8(ascii: "]"))
        #expect(String(buffer: writer.buffer) == "x=[12,3]")
    }
}

import BpfleetShared
import Testing

private struct Member: Equatable, CustomStringConvertible {
    var name: String
    var range: Range<Int>
    var text: String
    var description: String { "\(name)@\(range)=\(text)" }
}

private func members(_ json: String) throws -> [Member] {
    let bytes = Array(json.utf8)
    return try bytes.withUnsafeBytes { buffer in
        try JSONScanner.members(of: buffer).map {
            Member(name: $0.name, range: $0.range, text: String(decoding: bytes[$0.range], as: UTF8.self))
        }
    }
}

/// Name and value text only, for cases where the text says it all.
private func memberTexts(_ json: String) throws -> [String] {
    try members(json).map { "\($0.name)=\($0.text)" }
}

private func scanError(_ json: String) -> JSONScanner.ScanError? {
    #expect(throws: JSONScanner.ScanError.self) { try members(json) }
}

@Suite("JSONScanner.members(of:)")
struct JSONScannerTests {
    @Test func exactRangesOfAResponse() throws {
        #expect(try members(#"{"id":1,"result":{"a":[1,2]}}"#) == [
            Member(name: "id", range: 6..<7, text: "1"),
            Member(name: "result", range: 17..<28, text: #"{"a":[1,2]}"#),
        ])
    }

    @Test func exactRangesWithWhitespaceEverywhere() throws {
        let json = " { \"jsonrpc\" : \"2.0\" ,\n\t\"id\" :\"a}b\" , \"result\":[ {\"x\":\"]\"} , 2 ] \r\n}  "
        #expect(try members(json) == [
            Member(name: "jsonrpc", range: 15..<20, text: #""2.0""#),
            Member(name: "id", range: 30..<35, text: #""a}b""#),
            Member(name: "result", range: 47..<64, text: #"[ {"x":"]"} , 2 ]"#),
        ])
    }

    @Test func emptyObject() throws {
        #expect(try members("{}").isEmpty)
        #expect(try members(" { \n } ").isEmpty)
    }

    @Test func nestedObjectsAndArrays() throws {
        let json = #"{"a":{"b":{"c":[[],[{}],{"d":[1,[2,[3]]]}]}},"e":[[[]]],"f":{}}"#
        #expect(try memberTexts(json) == [
            #"a={"b":{"c":[[],[{}],{"d":[1,[2,[3]]]}]}}"#,
            "e=[[[]]]",
            "f={}",
        ])
    }

    @Test func stringsWithBracesBracketsAndEscapes() throws {
        let json = #"{"s":"{[}]","t":{"u":"}}]]\"{"},"v":"a\"b\\","w":["\\\"",  "]"],"x":"\\","y":1}"#
        #expect(try memberTexts(json) == [
            #"s="{[}]""#,
            #"t={"u":"}}]]\"{"}"#,
            #"v="a\"b\\""#,
            #"w=["\\\"",  "]"]"#,
            #"x="\\""#,
            "y=1",
        ])
    }

    @Test func unicodeEscapesAndUTF8InStrings() throws {
        #expect(try memberTexts(#"{"a":"\u007d\u005d","b":"é😀}","c":2}"#) == [
            #"a="\u007d\u005d""#,
            #"b="é😀}""#,
            "c=2",
        ])
    }

    @Test func numbersAndLiterals() throws {
        let json = #"{"i":0,"n":-12,"f":1.5e+10,"g":-0.25E-3,"big":18446744073709551615,"t":true,"u":false,"z":null}"#
        #expect(try memberTexts(json) == [
            "i=0", "n=-12", "f=1.5e+10", "g=-0.25E-3", "big=18446744073709551615", "t=true", "u=false", "z=null",
        ])
    }

    @Test func scalarRangesStopBeforeWhitespaceAndDelimiters() throws {
        let json = "{\"a\":12 ,\"b\":true\n,\"c\":null}"
        #expect(try members(json) == [
            Member(name: "a", range: 5..<7, text: "12"),
            Member(name: "b", range: 13..<17, text: "true"),
            Member(name: "c", range: 23..<27, text: "null"),
        ])
    }

    @Test func duplicateNamesAreAllReported() throws {
        #expect(try memberTexts(#"{"id":1,"id":2}"#) == ["id=1", "id=2"])
    }

    @Test func malformedInputThrowsWithTheOffset() {
        #expect(scanError("")?.offset == 0)
        #expect(scanError("   ")?.offset == 3)
        #expect(scanError("[1,2]")?.offset == 0)
        #expect(scanError(#""str""#)?.offset == 0)
        #expect(scanError(#"{"a" 1}"#)?.offset == 5)
        #expect(scanError(#"{"a":}"#)?.offset == 5)
        #expect(scanError(#"{"a":1,}"#)?.offset == 7)
        #expect(scanError(#"{"a":1 "b":2}"#)?.offset == 7)
        #expect(scanError(#"{a:1}"#)?.offset == 1)
        #expect(scanError(#"{"a":1"#)?.offset == 6)
    }

    @Test(arguments: [
        #"{"#,
        #"{""#,
        #"{"a"#,
        #"{"a":"#,
        #"{"a":"unterminated}"#,
        #"{"a":"esc\"}"#,
        #"{"a":{"b":1}"#,
        #"{"a":[1,2"#,
        #"{"a":[1,{"b":"]"}"#,
        #"{"a":1,"#,
    ])
    func truncatedInputThrows(json: String) {
        #expect(throws: JSONScanner.ScanError.self) { try members(json) }
    }

    /// A value whose brackets do not pair up is not JSON; the scanner must
    /// not hand it on as a member (the client passes `result` ranges to its
    /// output untouched).
    @Test(arguments: [
        #"{"a":[1},"b":2}"#,
        #"{"a":{"b":1],"c":2}"#,
    ])
    func mismatchedBracketsThrow(json: String) {
        #expect(throws: JSONScanner.ScanError.self) { try members(json) }
    }

    @Test func scanErrorDescription() {
        #expect(scanError(#"{"id":1,"#)?.description == "malformed JSON at byte 8")
    }
}

import BpfleetShared
import Testing

/// The single value of a line that is not a batch.
private func member(_ json: String) throws -> JSONReader.Member {
    guard case .single(let member) = try JSONReader.read(json) else {
        Issue.record("\(json) read as a batch")
        return JSONReader.Member(value: .null)
    }
    return member
}

private func value(_ json: String) throws -> JSONValue {
    try member(json).value
}

/// Why `json` is refused, or nil if it is not.
private func failure(_ json: String) -> JSONReader.Failure? {
    do throws(JSONReader.Failure) {
        _ = try JSONReader.read(json)
        return nil
    } catch {
        return error
    }
}

private func nested(_ depth: Int, open: String = "[", close: String = "]", inner: String = "") -> String {
    String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
}

@Suite("JSONReader")
struct JSONReaderTests {
    @Test(arguments: [
        ("-9223372036854775808", JSONValue.int(.min)),
        ("9223372036854775807", .int(.max)),
        ("9223372036854775808", .uint(9_223_372_036_854_775_808)),
        ("18446744073709551615", .uint(.max)),
        ("18446744073709551616", .double(18_446_744_073_709_551_616)),
        ("-9223372036854775809", .double(-9_223_372_036_854_775_808)),  // the nearest double
        ("0", .int(0)),
        ("-0", .int(0)),
        ("1.0", .double(1)),
        ("2E+3", .double(2000)),
        ("-0.25", .double(-0.25)),
        ("1e300", .double(1e300)),
        ("1e-400", .double(0)),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("null", .null),
        (#""42""#, .string("42")),
        (#""é\n\"\\\/\b\f\r\t""#, .string("é\n\"\\/\u{8}\u{c}\r\t")),
        (#""\u00e9\ud83d\ude00\uFFFF""#, .string("é😀\u{FFFF}")),
        (" [ 1 , { \"a\" : [ ] } ]\t\r\n", .array([.int(1), .object(["a": .array([])])])),
        ("{}", .object([:])),
    ])
    func readsExactly(json: String, expected: JSONValue) throws {
        // Wrapped in an object: a top-level array would be a batch.
        #expect(try value(#"{"v":\#(json)}"#) == .object(["v": expected]))
    }

    @Test func theLastOfTwoKeysWins() throws {
        #expect(try value(#"{"a":1,"a":2}"#) == ["a": 2])
    }

    @Test(arguments: [
        ("", "unexpected end of input at byte 0"),
        ("[1,]", "unexpected ']' at byte 3"),
        (#"{"a":1,}"#, "expected a string key at byte 7"),
        ("[1 2]", "expected ',' or ']' at byte 3"),
        ("01", "a number must not have leading zeros at byte 1"),
        ("-", "expected a digit at byte 1"),
        ("1.", "expected a digit at byte 2"),
        ("1e", "expected a digit at byte 2"),
        (".5", "unexpected '.' at byte 0"),
        ("+1", "unexpected '+' at byte 0"),
        ("NaN", "unexpected 'N' at byte 0"),
        ("tru", "unexpected end of input at byte 0"),
        ("nul1", "unexpected '1' at byte 3"),
        ("\"a\u{1}\"", "control character byte 0x1 in a string at byte 2"),
        ("\"a\tb\"", "control character byte 0x9 in a string at byte 2"),
        (#""\x""#, "invalid escape \\'x' at byte 2"),
        (#""\u12zz""#, "\\u must be followed by four hex digits at byte 5"),
        (#""\u12"#, "unterminated \\u escape at byte 3"),
        (#""abc"#, "unterminated string at byte 4"),
        (#"{"a" 1}"#, "expected ':' at byte 5"),
        ("{1:2}", "expected a string key at byte 1"),
        ("1 2", "unexpected text after the JSON value at byte 2"),
        ("{}}", "unexpected text after the JSON value at byte 2"),
    ])
    func strictSyntax(json: String, message: String) {
        let refused = failure(json)
        #expect(refused?.kind == .syntax)
        #expect(refused?.description == message)
    }

    @Test(arguments: [
        [0xC0, 0x80],              // overlong NUL
        [0xE0, 0x80, 0x80],        // overlong
        [0xED, 0xA0, 0x80],        // a UTF-16 surrogate in UTF-8
        [0xF4, 0x90, 0x80, 0x80],  // past U+10FFFF
        [0xE2, 0x82],              // cut short
        [0x80],                    // a lone continuation byte
        [0xFF],
    ] as [[UInt8]])
    func invalidUTF8InAStringIsRefused(sequence: [UInt8]) {
        let bytes: [UInt8] = Array("{\"a\":\"x".utf8) + sequence + Array("\"}".utf8)
        let refused = bytes.withUnsafeBytes { buffer -> JSONReader.Failure? in
            do throws(JSONReader.Failure) {
                _ = try JSONReader.read(buffer)
                return nil
            } catch {
                return error
            }
        }
        #expect(refused?.kind == .syntax)
        #expect(refused?.message == "invalid UTF-8")
    }

    @Test func wellFormedUTF8IsKept() throws {
        #expect(try value(#"{"a":"é€😀\#u{10FFFF}"}"#) == ["a": "é€😀\u{10FFFF}"])
    }

    // MARK: Nesting

    @Test func sixtyFourLevelsAreRead() throws {
        #expect(JSONReader.maxDepth == 64)
        var expected = JSONValue.object([:])
        for _ in 0..<63 { expected = ["a": expected] }
        #expect(try value(nested(63, open: #"{"a":"#, close: "}", inner: "{}")) == expected)
        if case .batch(let count, _) = try JSONReader.read(nested(64)) {
            #expect(count == 1)
        } else {
            Issue.record("not a batch")
        }
    }

    @Test func theSixtyFifthLevelStopsTheReadThere() {
        let refused = failure(nested(65))
        #expect(refused?.kind == .tooDeep)
        #expect(refused?.offset == 64)
        #expect(refused?.description == "nested deeper than the limit of 64 levels at byte 64")
        // Empty containers count too, objects as arrays do.
        #expect(failure(nested(64, open: #"{"a":"#, close: "}", inner: "[]"))?.kind == .tooDeep)
    }

    @Test func aRequestHoldsAtMostTheLimitOfValues() throws {
        // The object, its array and the zeros: exactly the limit, then one more.
        func request(zeros: Int) -> String {
            #"{"a":["# + Array(repeating: "0", count: zeros).joined(separator: ",") + "]}"
        }
        guard case .single(let member) = try JSONReader.read(request(zeros: JSONReader.maxValues - 2)) else {
            Issue.record("not a single request")
            return
        }
        #expect(member.value["a"].map { if case .array(let zeros) = $0 { zeros.count } else { 0 } } == JSONReader.maxValues - 2)
        let refused = failure(request(zeros: JSONReader.maxValues - 1))
        #expect(refused?.kind == .tooManyValues)
        #expect(refused?.description == "a request holds more than the limit of 1048576 values at byte \(6 + 2 * (JSONReader.maxValues - 2))")
    }

    @Test func fiveHundredLevelsStopAtTheLimitWhateverFollows() {
        // Unclosed, and garbage after the limit: the read never gets there.
        let refused = failure(String(repeating: "[", count: 500) + "}}}not json")
        #expect(refused?.kind == .tooDeep)
        #expect(refused?.offset == 64)
    }

    @Test func aLineOfMillionsOfValuesIsReadInOnePass() throws {
        // The 64 MiB line of `[]` that once took a minute: read whole, and
        // as a batch none of its members is kept.
        let count = 1_000_000
        let line = "[" + Array(repeating: "[]", count: count).joined(separator: ",") + "]"
        guard case .batch(let members, let kept) = try JSONReader.read(line, maxBatchMembers: 64) else {
            Issue.record("not a batch")
            return
        }
        #expect(members == count)
        #expect(kept.isEmpty)
        let object = #"{"v":["# + Array(repeating: "[]", count: count).joined(separator: ",") + "]}"
        #expect(try value(object)["v"].map { if case .array(let elements) = $0 { elements.count } else { 0 } } == count)
    }

    // MARK: Batches

    @Test func aBatchKeepsEachMemberWithItsOwnIDAndDefect() throws {
        let line = #"[{"id":1.5,"params":{"a":1e400}},{"id":"x","params":{"b":"\udfff"}},7,{"id":2}]"#
        #expect(try JSONReader.read(line) == .batch(count: 4, members: [
            JSONReader.Member(value: ["id": .double(1.5), "params": ["a": nil]], idText: "1.5",
                              defect: .init(kind: .numberOutOfRange("1e400"), path: [.key("params"), .key("a")])),
            JSONReader.Member(value: ["id": "x", "params": ["b": "\u{FFFD}"]],
                              defect: .init(kind: .loneSurrogate(0xDFFF), path: [.key("params"), .key("b")])),
            JSONReader.Member(value: 7),
            JSONReader.Member(value: ["id": 2], idText: "2"),
        ]))
    }

    @Test func aBatchOverTheLimitIsCountedButNotKept() throws {
        let line = "[" + Array(repeating: #"{"id":1}"#, count: 65).joined(separator: ",") + "]"
        #expect(try JSONReader.read(line, maxBatchMembers: 64) == .batch(count: 65, members: []))
        guard case .batch(let count, let members) = try JSONReader.read(line, maxBatchMembers: 65) else {
            Issue.record("not a batch")
            return
        }
        #expect(count == 65 && members.count == 65)
        #expect(try JSONReader.read("[]") == .batch(count: 0, members: []))
    }

    // MARK: Defects and ids

    @Test(arguments: [
        (#"{"params":{"value":1e400}}"#, "params.value", "number out of range"),
        (#"{"params":{"value":-1e400}}"#, "params.value", "number out of range"),
        (#"{"params":{"entries":[0,1,2,{"key":"\ud800"}]}}"#, "params.entries[3].key", #"string holds a lone surrogate (\ud800)"#),
        (#"{"params":{"a":"\ud800\u0041"}}"#, "params.a", #"string holds a lone surrogate (\ud800)"#),
        (#"{"params":{"a":"\ud800\ud800"}}"#, "params.a", #"string holds a lone surrogate (\ud800)"#),
        (#"{"params":{"a\udc01":1}}"#, "params.a\u{FFFD}", #"string holds a lone surrogate (\udc01)"#),
        (#"{"params":[[1,[2,1E999]]]}"#, "params[0][1][1]", "number out of range"),
        (#"{"method":"\uDBFF"}"#, "method", #"string holds a lone surrogate (\udbff)"#),
        ("1e400", "", "number out of range"),
    ])
    func theFirstDefectIsKeptWithItsPath(json: String, field: String, problem: String) throws {
        let defect = try member(json).defect
        #expect(defect?.field == field)
        #expect(defect?.problem == problem)
    }

    @Test func onlyTheFirstDefectIsKept() throws {
        let defect = try member(#"{"params":{"a":"\ud800","b":1e400}}"#).defect
        #expect(defect == .init(kind: .loneSurrogate(0xD800), path: [.key("params"), .key("a")]))
    }

    @Test func aNumberOverItsLengthLimitIsOutOfRange() throws {
        let digits = String(repeating: "1", count: JSONReader.maxNumberLength + 1)
        #expect(try member(#"{"a":\#(digits)}"#).defect?.kind == .numberOutOfRange(digits))
        let longest = "0." + String(repeating: "5", count: JSONReader.maxNumberLength - 2)
        #expect(try member(#"{"a":\#(longest)}"#).defect == nil)
    }

    @Test(arguments: ["1", "1.5", "1.0", "18446744073709551615", "-0", "1e400", "2E+3", "-1.5e-300",
                      String(repeating: "9", count: 2000)])
    func theIDKeepsItsExactText(text: String) throws {
        let read = try member(#"{"jsonrpc":"2.0","id":\#(text),"method":"m"}"#)
        #expect(read.idText == text)
        #expect(read.defect == nil)  // an id out of range is still an id
    }

    @Test func onlyTheRequestsOwnIDIsKept() throws {
        #expect(try member(#"{"params":{"id":5}}"#).idText == nil)
        #expect(try member(#"{"id":"5"}"#).idText == nil)
        #expect(try member(#"{"id":null}"#).idText == nil)
    }
}

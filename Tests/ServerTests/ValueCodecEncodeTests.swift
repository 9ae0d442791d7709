import BpfleetServer
import BpfleetShared
import Testing

/// The error `ValueCodec.encode` throws for `value` as `type`.
private func encodeError(_ value: JSONValue, as type: BTFType, sourceLocation: SourceLocation = #_sourceLocation) -> ValueError? {
    #expect(throws: ValueError.self, sourceLocation: sourceLocation) { try encoded(value, as: type) }
}

@Suite("ValueCodec.encode: JSON to bytes")
struct ValueCodecEncodeTests {
    // MARK: integers

    @Test(arguments: [
        (CType.u8, JSONValue.int(255), [0xff]),
        (CType.u8, .int(0), [0x00]),
        (CType.s8, .int(-1), [0xff]),
        (CType.s8, .int(-128), [0x80]),
        (CType.s8, .int(127), [0x7f]),
        (CType.u16, .int(4660), [0x34, 0x12]),
        (CType.s16, .int(-32768), [0x00, 0x80]),
        (CType.u32, .int(4_294_967_295), [0xff, 0xff, 0xff, 0xff]),
        (CType.s32, .int(-1), [0xff, 0xff, 0xff, 0xff]),
        (CType.s32, .int(-2_147_483_648), [0x00, 0x00, 0x00, 0x80]),
        (CType.u64, .uint(.max), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        (CType.u64, .int(.max), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        (CType.s64, .int(.min), [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]),
        (CType.s64, .int(-1), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        (CType.bool, .bool(true), [0x01]),
        (CType.bool, .bool(false), [0x00]),
        (CType.bool, .int(1), [0x01]),
        (.pointer(size: 8), .int(4096), [0x00, 0x10, 0, 0, 0, 0, 0, 0]),
    ] as [(BTFType, JSONValue, [UInt8])])
    func integers(type: BTFType, value: JSONValue, expected: [UInt8]) throws {
        #expect(try encoded(value, as: type) == expected)
    }

    /// Integers as strings: decimal or `0x` hex, with a sign of their own.
    @Test(arguments: [
        (CType.u32, "42", [42, 0, 0, 0]),
        (CType.u32, "0x2a", [42, 0, 0, 0]),
        (CType.u32, "0X2A", [42, 0, 0, 0]),
        (CType.s16, "-0x10", [0xf0, 0xff]),
        (CType.s32, "-1", [0xff, 0xff, 0xff, 0xff]),
        (CType.s64, "-9223372036854775808", [0, 0, 0, 0, 0, 0, 0, 0x80]),
        (CType.s64, "-0x8000000000000000", [0, 0, 0, 0, 0, 0, 0, 0x80]),
        (CType.u64, "18446744073709551615", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        (CType.bool, "1", [1]),
        (CType.color, "2", [2, 0, 0, 0]),
        (.pointer(size: 8), "0xffff8000", [0, 0x80, 0xff, 0xff, 0, 0, 0, 0]),
    ] as [(BTFType, String, [UInt8])])
    func integersAsStrings(type: BTFType, text: String, expected: [UInt8]) throws {
        #expect(try encoded(.string(text), as: type) == expected)
    }

    @Test func aStructMixesStringsNumbersAndHex() throws {
        #expect(try encoded(["a": "0x5", "b": "-3", "c": 1, "d": "11259375"], as: CType.flags) == [0xed, 0xef, 0xcd, 0xab])
    }

    /// `.uint` is an ordinary case of a public enum: a small value built in
    /// code (not parsed) is still a number that fits a signed field.
    @Test func smallUnsignedCaseFitsASignedField() throws {
        #expect(try encoded(.uint(5), as: CType.s32) == [5, 0, 0, 0])
        #expect(try encoded(.uint(UInt64(Int64.max)), as: CType.s64) == [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
    }

    /// A C `bool` holds 0 or 1 and compiled BPF code relies on it; a byte
    /// of 2 behind a `bool` is not a value the program can have.
    @Test func boolTakesOnlyZeroAndOne() {
        let error = encodeError(.int(2), as: CType.bool)
        #expect(error?.path == "value")
    }

    @Test(arguments: [
        (CType.u8, JSONValue.int(256), "out of range for an unsigned 8-bit integer"),
        (CType.u8, .int(-1), "out of range for an unsigned 8-bit integer"),
        (CType.s8, .int(128), "out of range for a signed 8-bit integer"),
        (CType.s8, .int(-129), "out of range for a signed 8-bit integer"),
        (CType.u16, .int(65536), "out of range for an unsigned 16-bit integer"),
        (CType.s16, .int(-32769), "out of range for a signed 16-bit integer"),
        (CType.u32, .int(-1), "out of range for an unsigned 32-bit integer"),
        (CType.u32, .int(4_294_967_296), "out of range for an unsigned 32-bit integer"),
        (CType.s32, .int(2_147_483_648), "out of range for a signed 32-bit integer"),
        (CType.s64, .uint(9_223_372_036_854_775_808), "out of range for a signed 64-bit integer"),
        (CType.s64, .uint(.max), "out of range for a signed 64-bit integer"),
        (CType.u64, .int(-1), "out of range for an unsigned 64-bit integer"),
        (CType.u64, .int(.min), "out of range for an unsigned 64-bit integer"),
        (CType.bool, .int(256), "out of range for an unsigned 8-bit integer"),
        (CType.color, .int(-1), "out of range for an unsigned 32-bit integer"),
        (CType.level, .int(2_147_483_648), "out of range for a signed 32-bit integer"),
    ] as [(BTFType, JSONValue, String)])
    func outOfRangeIntegers(type: BTFType, value: JSONValue, message: String) {
        let error = encodeError(value, as: type)
        #expect(error?.path == "value")
        #expect(error?.message == message)
        #expect(error?.description == "value: \(message)")
    }

    @Test func twoToTheSixtyThreeParsedFromJSONDoesNotFitS64() throws {
        let value = try parsedJSON("9223372036854775808")
        #expect(encodeError(value, as: CType.s64)?.message == "out of range for a signed 64-bit integer")
        #expect(try encoded(value, as: CType.u64) == [0, 0, 0, 0, 0, 0, 0, 0x80])
    }

    @Test(arguments: [
        (CType.u32, JSONValue.string("5x"), "expected an integer, got string"),
        (CType.u32, .string(""), "expected an integer, got string"),
        (CType.u32, .string("0x"), "expected an integer, got string"),
        (CType.u32, .string("+5"), "expected an integer, got string"),
        (CType.u32, .string(" 5"), "expected an integer, got string"),
        (CType.u32, .string("--5"), "expected an integer, got string"),
        (CType.u32, .string("5.0"), "expected an integer, got string"),
        (CType.u32, .string("0x-5"), "expected an integer, got string"),
        (CType.u32, .string("-5"), "out of range for an unsigned 32-bit integer"),
        (CType.u32, .string("0x100000000"), "out of range for an unsigned 32-bit integer"),
        (CType.s8, .string("-0x81"), "out of range for a signed 8-bit integer"),
        (CType.u64, .string("18446744073709551616"), "expected an integer, got string"),
        (CType.u32, .double(1.5), "expected an integer, got number"),
        (CType.u32, .bool(true), "expected an integer, got boolean"),
        (CType.u32, .null, "expected an integer, got null"),
        (CType.s64, .array([.int(1)]), "expected an integer, got array"),
        (CType.u8, .object(["a": .int(1)]), "expected an integer, got object"),
        (CType.bool, .string("true"), "expected an integer, got string"),
        (CType.color, .bool(true), "expected an integer, got boolean"),
        (.float(size: 8), .string("1.5"), "expected a number, got string"),
        (.float(size: 4), .null, "expected a number, got null"),
        (.array(element: CType.u32, count: 4), .int(5), "expected an array of 4, got integer"),
        (.array(element: CType.u32, count: 4), .string("abcd"), "expected an array of 4, got string"),
        (CType.chars(16), .object([:]), "expected an array of 16, got object"),
        (CType.event, .array([]), "expected an object for struct event, got array"),
        (.structure(name: "", size: 4, members: []), .int(1), "expected an object for a struct, got integer"),
        (.opaque(size: 4), .string("abc"), "expected a hex string of 4 bytes"),
        (.opaque(size: 4), .string("0011223344"), "expected a hex string of 4 bytes"),
        (.opaque(size: 4), .int(1), "expected a hex string of 4 bytes"),
    ] as [(BTFType, JSONValue, String)])
    func wrongJSONTypes(type: BTFType, value: JSONValue, message: String) {
        let error = encodeError(value, as: type)
        #expect(error?.path == "value")
        #expect(error?.message == message)
    }

    // MARK: floats

    @Test func floats() throws {
        #expect(try encoded(.double(1.5), as: .float(size: 4)) == littleEndian(UInt64(Float(1.5).bitPattern), size: 4))
        #expect(try encoded(.double(-2.25), as: .float(size: 8)) == littleEndian(Double(-2.25).bitPattern, size: 8))
        #expect(try encoded(.int(3), as: .float(size: 8)) == littleEndian(Double(3).bitPattern, size: 8))
        #expect(try encoded(.uint(.max), as: .float(size: 8)) == littleEndian(Double(UInt64.max).bitPattern, size: 8))
        #expect(encodeError(.double(1), as: .float(size: 16))?.message == "16-byte floats are not supported")
    }

    // MARK: char arrays

    @Test func stringIntoCharArrayIsNulPadded() throws {
        #expect(try encoded("bash", as: CType.chars(8)) == Array("bash".utf8) + [0, 0, 0, 0])
        #expect(try encoded("", as: CType.chars(4)) == [0, 0, 0, 0])
        #expect(try encoded("é", as: CType.chars(4)) == [0xc3, 0xa9, 0, 0])
    }

    @Test func stringFillingTheWholeCharArrayFits() throws {
        #expect(try encoded("0123456789abcdef", as: CType.chars(16)) == Array("0123456789abcdef".utf8))
    }

    @Test func stringTooLongForCharArray() {
        let error = encodeError("0123456789abcdefX", as: CType.chars(16))
        #expect(error?.path == "value")
        #expect(error?.message == "string of 17 bytes does not fit char[16]")
        // Bytes, not characters, count.
        #expect(encodeError("ééé", as: CType.chars(5))?.message == "string of 6 bytes does not fit char[5]")
    }

    @Test func numbersIntoCharArray() throws {
        #expect(try encoded([97, 98, 0, 99], as: CType.chars(4)) == [97, 98, 0, 99])
        #expect(try encoded([-1], as: CType.chars(2)) == [0xff, 0])
    }

    // MARK: arrays

    @Test func shorterArrayLeavesTheRestZero() throws {
        #expect(try encoded([1, 2], as: .array(element: CType.u16, count: 3)) == [1, 0, 2, 0, 0, 0])
    }

    @Test func tooManyArrayElements() {
        let error = encodeError([1, 2, 3], as: .array(element: CType.u32, count: 2))
        #expect(error?.path == "value")
        #expect(error?.message == "3 elements do not fit an array of 2")
    }

    @Test func badArrayElementNamesItsIndex() {
        let error = encodeError([1, 2, 300], as: .array(element: CType.u8, count: 4))
        #expect(error?.path == "value[2]")
        #expect(error?.message == "out of range for an unsigned 8-bit integer")
    }

    // MARK: structs and unions

    @Test func structLeavesMissingMembersZero() throws {
        var expected = [UInt8](repeating: 0, count: 48)
        expected[0] = 7
        #expect(try encoded(["pid": 7], as: CType.event) == expected)
        #expect(try encoded([:], as: CType.event) == [UInt8](repeating: 0, count: 48))
    }

    @Test func unknownStructField() {
        let error = encodeError(["pid": 1, "bogus": 2], as: CType.event)
        #expect(error?.path == "value.bogus")
        #expect(error?.message == "no such field (fields: pid, comm, ep, delta, color, ok, peers)")
    }

    @Test func unknownFieldOfANestedStruct() {
        let error = encodeError(["ep": ["port": 1, "prot": 6]], as: CType.event)
        #expect(error?.path == "value.ep.prot")
        #expect(error?.message == "no such field (fields: port, proto)")
    }

    @Test func errorPathsThroughNestedStructsAndArrays() {
        let error = encodeError(["peers": [["port": 1], ["port": 70000]]], as: CType.event)
        #expect(error?.path == "value.peers[1].port")
        #expect(error?.message == "out of range for an unsigned 16-bit integer")
        #expect(error?.description == "value.peers[1].port: out of range for an unsigned 16-bit integer")

        let comm = encodeError(["comm": .string(String(repeating: "x", count: 17))], as: CType.event)
        #expect(comm?.path == "value.comm")
        #expect(comm?.message == "string of 17 bytes does not fit char[16]")
    }

    @Test func pathIsTheOneGiven() throws {
        let error = #expect(throws: ValueError.self) {
            try encoded(["ep": ["port": "x"]], as: CType.event, path: "globals.config")
        }
        #expect(error?.path == "globals.config.ep.port")
        #expect(error?.message == "expected an integer, got string")
    }

    @Test func unionTakesOneField() throws {
        let type = BTFType.union(name: "word", size: 4, members: [
            CType.member("value", CType.u32, byte: 0),
            CType.member("bytes", .array(element: CType.u8, count: 4), byte: 0),
        ])
        #expect(try encoded(["value": 0x0403_0201], as: type) == [1, 2, 3, 4])
        #expect(try encoded(["bytes": [9, 8, 7, 6]], as: type) == [9, 8, 7, 6])
        let error = encodeError(["value": 1, "bytes": [1]], as: type)
        #expect(error?.path == "value")
        #expect(error?.message == "a union takes one field")
        #expect(encodeError(["other": 1], as: type)?.message == "no such field (fields: value, bytes)")
    }

    // MARK: enums

    @Test func enumByNameOrNumber() throws {
        #expect(try encoded("BLUE", as: CType.color) == [2, 0, 0, 0])
        #expect(try encoded(7, as: CType.color) == [7, 0, 0, 0])
        #expect(try encoded("NEG", as: CType.level) == [0xff, 0xff, 0xff, 0xff])
        #expect(try encoded(-2, as: CType.level) == [0xfe, 0xff, 0xff, 0xff])
        let wide = BTFType.enumeration(name: "wide", size: 8, signed: false, cases: [
            BTFEnumCase(name: "ALL", value: Int64(bitPattern: UInt64.max)),
        ])
        #expect(try encoded("ALL", as: wide) == [UInt8](repeating: 0xff, count: 8))
    }

    @Test func unknownEnumName() {
        let error = encodeError("PURPLE", as: CType.color)
        #expect(error?.path == "value")
        #expect(error?.message == "'PURPLE' is not a case of enum color (cases: RED, GREEN, BLUE)")
    }

    // MARK: bitfields

    @Test func bitfields() throws {
        #expect(try encoded(["a": 5, "b": -3, "c": true, "d": 0xabcdef], as: CType.flags) == [0xed, 0xef, 0xcd, 0xab])
        #expect(try encoded(["b": 7], as: CType.flags) == [0x38, 0, 0, 0])
        #expect(try encoded(["b": -8], as: CType.flags) == [0x40, 0, 0, 0])
        #expect(try encoded(["c": 1], as: CType.flags) == [0x80, 0, 0, 0])
        #expect(try encoded(["d": 0xffffff], as: CType.flags) == [0, 0xff, 0xff, 0xff])
    }

    @Test(arguments: [
        ("a", JSONValue.int(8), "does not fit a 3-bit field"),
        ("b", .int(8), "does not fit a 4-bit field"),
        ("b", .int(-9), "does not fit a 4-bit field"),
        ("c", .int(2), "does not fit a 1-bit field"),
        ("d", .int(0x100_0000), "does not fit a 24-bit field"),
        ("a", .string("x"), "expected an integer, got string"),
    ])
    func bitfieldOutOfRange(field: String, value: JSONValue, message: String) {
        let error = encodeError(.object([field: value]), as: CType.flags)
        #expect(error?.path == "value.\(field)")
        #expect(error?.message == message)
    }

    @Test func negativeIntoAnUnsignedBitfieldFails() {
        let error = encodeError(["a": -1], as: CType.flags)
        #expect(error?.path == "value.a")
    }

    /// Enums are taken by name (docs/values.md), bitfield or not.
    @Test func enumBitfieldByName() throws {
        let type = BTFType.structure(name: "s", size: 4, members: [
            CType.bitfield("kind", CType.color, bit: 0, width: 2),
            CType.bitfield("rest", CType.u32, bit: 2, width: 30),
        ])
        #expect(try encoded(["kind": "GREEN", "rest": 1], as: type) == [0x05, 0, 0, 0])
    }

    // MARK: opaque

    @Test func opaqueTakesHex() throws {
        #expect(try encoded("deadBEEF", as: .opaque(size: 4)) == [0xde, 0xad, 0xbe, 0xef])
        #expect(try encoded("0x00ff", as: .opaque(size: 2)) == [0x00, 0xff])
    }
}

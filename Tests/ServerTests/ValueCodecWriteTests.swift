import BpfleetServer
import BpfleetShared
import Testing

@Suite("ValueCodec.write: bytes to JSON")
struct ValueCodecWriteTests {
    @Test(arguments: [
        (CType.u8, [0x00], "0"),
        (CType.u8, [0xff], "255"),
        (CType.s8, [0xff], "-1"),
        (CType.s8, [0x80], "-128"),
        (CType.s8, [0x7f], "127"),
        (CType.u16, [0x34, 0x12], "4660"),
        (CType.u16, [0xff, 0xff], "65535"),
        (CType.s16, [0x00, 0x80], "-32768"),
        (CType.s16, [0xff, 0xff], "-1"),
        (CType.u32, [0xff, 0xff, 0xff, 0xff], "4294967295"),
        (CType.u32, [0x78, 0x56, 0x34, 0x12], "305419896"),
        (CType.s32, [0xff, 0xff, 0xff, 0xff], "-1"),
        (CType.s32, [0x00, 0x00, 0x00, 0x80], "-2147483648"),
        (CType.u64, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "18446744073709551615"),
        (CType.u64, [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80], "9223372036854775808"),
        (CType.s64, [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80], "-9223372036854775808"),
        (CType.s64, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], "9223372036854775807"),
        (CType.s64, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "-1"),
        (CType.s64, [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], "0"),
    ] as [(BTFType, [UInt8], String)])
    func integers(type: BTFType, bytes: [UInt8], expected: String) {
        #expect(written(type, bytes) == expected)
    }

    @Test func booleans() {
        #expect(written(CType.bool, [0]) == "false")
        #expect(written(CType.bool, [1]) == "true")
        #expect(written(CType.bool, [2]) == "true")
    }

    @Test func pointerIsAnUnsignedNumber() {
        #expect(written(.pointer(size: 8), [0x00, 0x10, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff]) == "18446603336221200384")
    }

    @Test func integerOfAnUnusualWidthIsHex() {
        let bytes: [UInt8] = Array(0..<16)
        #expect(written(CType.int(16, signed: false), bytes) == #""000102030405060708090a0b0c0d0e0f""#)
    }

    @Test func opaqueIsLowercaseHex() {
        #expect(written(.opaque(size: 4), [0xde, 0xad, 0xBE, 0xEF]) == #""deadbeef""#)
    }

    // MARK: char arrays

    @Test func nulPaddedCharArrayIsAString() {
        let bytes = Array("bash".utf8) + [UInt8](repeating: 0, count: 12)
        #expect(written(CType.chars(16), bytes) == #""bash""#)
    }

    @Test func allZeroCharArrayIsTheEmptyString() {
        #expect(written(CType.chars(16), [UInt8](repeating: 0, count: 16)) == #""""#)
    }

    @Test func fullCharArrayWithoutNulIsAString() {
        #expect(written(CType.chars(16), Array("0123456789abcdef".utf8)) == #""0123456789abcdef""#)
    }

    @Test func charArrayTextIsEscaped() {
        let bytes = Array("a\"b\\\n\u{1}".utf8) + [0, 0]
        #expect(written(CType.chars(8), bytes) == #""a\"b\\\n\u0001""#)
    }

    @Test func charArrayWithUTF8IsAString() {
        let bytes = Array("é😀".utf8) + [0, 0]
        #expect(written(CType.chars(8), bytes) == "\"é😀\"")
    }

    @Test func bytesAfterTheNulFallBackToAnArray() {
        var bytes = [UInt8](repeating: 0, count: 8)
        bytes[0] = UInt8(ascii: "a")
        bytes[1] = UInt8(ascii: "b")
        bytes[3] = UInt8(ascii: "c")
        #expect(written(CType.chars(8), bytes) == "[97,98,0,99,0,0,0,0]")
    }

    @Test func invalidUTF8FallsBackToAnArray() {
        #expect(written(CType.chars(4), [0xff, 0x41, 0x00, 0x00]) == "[-1,65,0,0]")
        #expect(written(.array(element: CType.unsignedChar, count: 4), [0xff, 0x41, 0x00, 0x00]) == "[255,65,0,0]")
        // A truncated multi-byte sequence: the first byte of "é" alone.
        #expect(written(CType.chars(2), [0xc3, 0x00]) == "[-61,0]")
    }

    @Test func byteArrayThatIsNotCharIsAlwaysNumbers() {
        #expect(written(.array(element: CType.u8, count: 4), Array("ab\0\0".utf8)) == "[97,98,0,0]")
    }

    // MARK: arrays, structs, unions

    @Test func arrayOfIntegers() {
        let bytes = littleEndian(Int64(-1), size: 4) + littleEndian(UInt64(7), size: 4) + littleEndian(Int64(Int32.min), size: 4)
        #expect(written(.array(element: CType.s32, count: 3), bytes) == "[-1,7,-2147483648]")
    }

    @Test func emptyArray() {
        #expect(written(.array(element: CType.u32, count: 0), []) == "[]")
    }

    @Test func arrayOfArrays() {
        #expect(written(.array(element: .array(element: CType.u8, count: 2), count: 2), [1, 2, 3, 4]) == "[[1,2],[3,4]]")
    }

    @Test func nestedStructWithArraysOfStructs() {
        var bytes = [UInt8](repeating: 0, count: 48)
        bytes.replaceSubrange(0..<4, with: littleEndian(UInt64(4242), size: 4))
        bytes.replaceSubrange(4..<8, with: Array("curl".utf8))
        bytes.replaceSubrange(20..<22, with: littleEndian(UInt64(443), size: 2))
        bytes[22] = 6
        bytes[23] = 0xaa  // padding is never shown
        bytes.replaceSubrange(24..<32, with: littleEndian(Int64.min, size: 8))
        bytes.replaceSubrange(32..<36, with: littleEndian(UInt64(2), size: 4))
        bytes[36] = 1
        bytes.replaceSubrange(40..<42, with: littleEndian(UInt64(53), size: 2))
        bytes[42] = 17
        bytes.replaceSubrange(44..<46, with: littleEndian(UInt64(65535), size: 2))
        bytes[46] = 255
        #expect(written(CType.event, bytes)
            == #"{"pid":4242,"comm":"curl","ep":{"port":443,"proto":6},"delta":-9223372036854775808,"color":"BLUE","ok":true,"peers":[{"port":53,"proto":17},{"port":65535,"proto":255}]}"#)
    }

    @Test func emptyStruct() {
        #expect(written(.structure(name: "empty", size: 0, members: []), []) == "{}")
    }

    @Test func memberBeyondTheBytesIsNull() {
        let type = BTFType.structure(name: "s", size: 8, members: [
            CType.member("a", CType.u32, byte: 0), CType.member("b", CType.u32, byte: 4),
        ])
        #expect(written(type, [1, 0, 0, 0]) == #"{"a":1,"b":null}"#)
    }

    @Test func unionShowsEveryMember() {
        let type = BTFType.union(name: "word", size: 4, members: [
            CType.member("value", CType.u32, byte: 0),
            CType.member("bytes", .array(element: CType.u8, count: 4), byte: 0),
            CType.member("half", CType.s16, byte: 0),
        ])
        #expect(written(type, [0x01, 0x02, 0x03, 0x84]) == #"{"value":2214789633,"bytes":[1,2,3,132],"half":513}"#)
    }

    // MARK: enums

    @Test func enumByName() {
        #expect(written(CType.color, littleEndian(UInt64(0), size: 4)) == #""RED""#)
        #expect(written(CType.color, littleEndian(UInt64(1), size: 4)) == #""GREEN""#)
        #expect(written(CType.color, littleEndian(UInt64(2), size: 4)) == #""BLUE""#)
    }

    @Test func unknownEnumValueIsANumber() {
        #expect(written(CType.color, littleEndian(UInt64(7), size: 4)) == "7")
        #expect(written(CType.color, [0xff, 0xff, 0xff, 0xff]) == "4294967295")
    }

    @Test func signedEnum() {
        #expect(written(CType.level, [0xff, 0xff, 0xff, 0xff]) == #""NEG""#)
        #expect(written(CType.level, [0xff, 0xff, 0xff, 0x7f]) == #""BIG""#)
        #expect(written(CType.level, [0xfe, 0xff, 0xff, 0xff]) == "-2")
        #expect(written(CType.level, [0x00, 0x00, 0x00, 0x80]) == "-2147483648")
    }

    @Test func enumsOfOtherWidths() {
        let small = BTFType.enumeration(name: "small", size: 1, signed: false, cases: [BTFEnumCase(name: "TOP", value: 255)])
        #expect(written(small, [0xff]) == #""TOP""#)
        let wide = BTFType.enumeration(name: "wide", size: 8, signed: false, cases: [
            BTFEnumCase(name: "ALL", value: Int64(bitPattern: UInt64.max)),
        ])
        #expect(written(wide, [UInt8](repeating: 0xff, count: 8)) == #""ALL""#)
        #expect(written(wide, [0xfe] + [UInt8](repeating: 0xff, count: 7)) == "18446744073709551614")
    }

    // MARK: bitfields

    @Test func bitfields() {
        // a=5 (101), b=-3 (1101), c=1, d=0xabcdef
        #expect(written(CType.flags, [0xed, 0xef, 0xcd, 0xab]) == #"{"a":5,"b":-3,"c":true,"d":11259375}"#)
        #expect(written(CType.flags, [0x00, 0x00, 0x00, 0x00]) == #"{"a":0,"b":0,"c":false,"d":0}"#)
        // b=7 (largest positive 4-bit) and b=-8 (smallest)
        #expect(written(CType.flags, [0x38, 0, 0, 0]) == #"{"a":0,"b":7,"c":false,"d":0}"#)
        #expect(written(CType.flags, [0x40, 0, 0, 0]) == #"{"a":0,"b":-8,"c":false,"d":0}"#)
        #expect(written(CType.flags, [0xff, 0xff, 0xff, 0xff]) == #"{"a":7,"b":-1,"c":true,"d":16777215}"#)
    }

    @Test func bitfieldAfterAnOrdinaryMember() {
        // struct { u8 tag; u16 x:12 /* bit 8 */; u16 y:4 /* bit 20 */; }
        let type = BTFType.structure(name: "packed", size: 4, members: [
            CType.member("tag", CType.u8, byte: 0),
            CType.bitfield("x", CType.u16, bit: 8, width: 12),
            CType.bitfield("y", CType.s16, bit: 20, width: 4),
        ])
        // x = 0xabc, y = -1
        #expect(written(type, [0x09, 0xbc, 0xfa, 0x00]) == #"{"tag":9,"x":2748,"y":-1}"#)
    }

    /// Enums are written by name (docs/values.md), bitfield or not.
    @Test func enumBitfieldByName() {
        let type = BTFType.structure(name: "s", size: 4, members: [
            CType.bitfield("kind", CType.color, bit: 0, width: 2),
            CType.bitfield("rest", CType.u32, bit: 2, width: 30),
        ])
        #expect(written(type, [0x05, 0, 0, 0]) == #"{"kind":"GREEN","rest":1}"#)
    }

    // MARK: floats

    @Test func floats() {
        #expect(written(.float(size: 4), littleEndian(UInt64(Float(1.5).bitPattern), size: 4)) == "1.5")
        #expect(written(.float(size: 4), littleEndian(UInt64(Float(-2.25).bitPattern), size: 4)) == "-2.25")
        #expect(written(.float(size: 8), littleEndian(Double(-2.25).bitPattern, size: 8)) == "-2.25")
        #expect(written(.float(size: 8), littleEndian(Double(1e300).bitPattern, size: 8)) == "1e+300")
        #expect(written(.float(size: 8), littleEndian(Double(0).bitPattern, size: 8)) == "0.0")
    }

    @Test func nonFiniteFloatsAreNull() {
        #expect(written(.float(size: 8), littleEndian(Double.nan.bitPattern, size: 8)) == "null")
        #expect(written(.float(size: 8), littleEndian(Double.infinity.bitPattern, size: 8)) == "null")
        #expect(written(.float(size: 4), littleEndian(UInt64((-Float.infinity).bitPattern), size: 4)) == "null")
    }

    @Test func longDoubleIsHex() {
        #expect(written(.float(size: 16), [UInt8](repeating: 0xab, count: 16)) == #""abababababababababababababababab""#)
    }

    @Test func everyWrittenValueIsValidJSON() throws {
        var bytes = [UInt8](repeating: 0, count: 48)
        bytes.replaceSubrange(4..<11, with: Array("a\"\\\n\u{1f}é".utf8))
        let parsed = try parsedJSON(written(CType.event, bytes))
        #expect(parsed["comm"] == .string("a\"\\\n\u{1f}é"))
    }
}

import BpfleetServer
import BpfleetShared
import Testing

@Suite("ValueCodec: encode then write")
struct ValueCodecRoundTripTests {
    @Test(arguments: [
        (CType.u8, "0"), (CType.u8, "255"), (CType.s8, "-128"), (CType.s8, "127"), (CType.s8, "-1"),
        (CType.u16, "65535"), (CType.s16, "-32768"), (CType.s16, "32767"),
        (CType.u32, "4294967295"), (CType.s32, "-2147483648"), (CType.s32, "2147483647"),
        (CType.u64, "18446744073709551615"), (CType.u64, "9223372036854775808"), (CType.u64, "0"),
        (CType.s64, "-9223372036854775808"), (CType.s64, "9223372036854775807"), (CType.s64, "-1"),
        (CType.bool, "true"), (CType.bool, "false"),
        (.float(size: 8), "-2.25"), (.float(size: 4), "1.5"), (.float(size: 8), "1e+300"),
        (CType.chars(16), #""sshd""#), (CType.chars(4), #""""#), (CType.chars(4), "[97,0,98,0]"),
        (CType.color, #""GREEN""#), (CType.color, "9"), (CType.level, #""NEG""#), (CType.level, "-7"),
        (.opaque(size: 3), #""00ab12""#),
    ] as [(BTFType, String)])
    func scalarTextSurvives(type: BTFType, text: String) throws {
        let bytes = try encoded(try parsedJSON(text), as: type)
        #expect(bytes.count == type.size)
        #expect(written(type, bytes) == text)
    }

    @Test func structSurvives() throws {
        let text = #"{"pid":4242,"comm":"nginx: worker","ep":{"port":443,"proto":6},"delta":-9223372036854775808,"color":"BLUE","ok":true,"peers":[{"port":53,"proto":17},{"port":65535,"proto":255}]}"#
        let value = try parsedJSON(text)
        let bytes = try encoded(value, as: CType.event)
        #expect(written(CType.event, bytes) == text)
        #expect(try parsedJSON(written(CType.event, bytes)) == value)
    }

    @Test func bitfieldsSurvive() throws {
        for text in [
            #"{"a":5,"b":-3,"c":true,"d":11259375}"#,
            #"{"a":7,"b":-8,"c":false,"d":16777215}"#,
            #"{"a":0,"b":7,"c":true,"d":0}"#,
        ] {
            let bytes = try encoded(try parsedJSON(text), as: CType.flags)
            #expect(written(CType.flags, bytes) == text)
        }
    }

    @Test func partialInputIsCompletedWithZeros() throws {
        let bytes = try encoded(["comm": "x", "peers": [["proto": 1]]], as: CType.event)
        #expect(written(CType.event, bytes)
            == #"{"pid":0,"comm":"x","ep":{"port":0,"proto":0},"delta":0,"color":"RED","ok":false,"peers":[{"port":0,"proto":1},{"port":0,"proto":0}]}"#)
    }

    @Test func writtenBytesEncodeBackToTheSameBytes() throws {
        var bytes = [UInt8](repeating: 0, count: 48)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 37 &+ 11) }
        // Keep what write cannot show (padding, an unknown enum value) out of the comparison.
        bytes[23] = 0
        bytes.replaceSubrange(32..<36, with: [1, 0, 0, 0])
        bytes[36] = 1
        bytes.replaceSubrange(37..<40, with: [0, 0, 0])
        bytes[43] = 0
        bytes[47] = 0
        let text = written(CType.event, bytes)
        #expect(try encoded(try parsedJSON(text), as: CType.event) == bytes)
    }
}

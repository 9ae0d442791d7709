import BpfleetServer
import Testing

@Suite("Hex")
struct HexTests {
    @Test func encodesLowercase() {
        #expect(Hex.encode([0x00, 0x01, 0x0f, 0x10, 0xab, 0xff]) == "00010f10abff")
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.encode(UInt8.min...UInt8.max).count == 512)
    }

    @Test func decodes() {
        #expect(Hex.decode("00010f10abff") == [0x00, 0x01, 0x0f, 0x10, 0xab, 0xff])
        #expect(Hex.decode("DEADbeef") == [0xde, 0xad, 0xbe, 0xef])
        #expect(Hex.decode("0x0a") == [0x0a])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("0x") == [])
    }

    @Test(arguments: ["abc", "0xabc", "zz", "0g", "ab cd", "é0", "-1", "0X0a"])
    func rejectsWhatIsNotHex(text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test func roundTripsEveryByte() {
        let all = Array(UInt8.min...UInt8.max)
        #expect(Hex.decode(Hex.encode(all)) == all)
    }
}

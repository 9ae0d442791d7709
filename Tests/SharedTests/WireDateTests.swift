import BpfleetShared
import Foundation
import Testing

@Suite("WireDate")
struct WireDateTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (951_782_400.0, "2000-02-29T00:00:00Z"),
        (1_795_794_685.999, "2026-11-27T15:51:25Z"),
        (4_102_444_799.0, "2099-12-31T23:59:59Z"),
    ])
    func formatsUTCToTheSecond(seconds: Double, text: String) {
        #expect(WireDate.string(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test func whatTheWireEncoderWritesTheWireDecoderReads() throws {
        struct Stamped: Codable, Equatable { var at: Date }
        let original = Stamped(at: Date(timeIntervalSince1970: 1_795_794_685))
        let data = try JSONEncoder.wire().encode(original)
        #expect(String(decoding: data, as: UTF8.self) == #"{"at":"2026-11-27T15:51:25Z"}"#)
        #expect(try JSONDecoder.wire().decode(Stamped.self, from: data) == original)
    }
}

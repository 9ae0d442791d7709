@testable import BpfleetClient
import ArgumentParser
import Foundation
import Testing

/// `--format hex` keys and values: bytes as bpftool's `key hex` takes them.
@Suite struct HexBytesTests {
    @Test(arguments: [
        ("01 02 0a", [1, 2, 10]),
        ("01020a", [1, 2, 10]),
        ("0102 0a", [1, 2, 10]),
        ("1 2 a", [1, 2, 10]),
        ("0x01 0x02 0x0A", [1, 2, 10]),
        ("0x01020a", [1, 2, 10]),
        ("  FF\t00\n", [255, 0]),
    ] as [(String, [UInt8])])
    func accepted(text: String, bytes: [UInt8]) throws {
        #expect(try HexBytes.parse(text, argument: "KEY") == bytes)
        #expect(HexBytes.wire(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
    }

    @Test(arguments: [
        ("", "KEY: no bytes given (give bytes as 01 02 0a or 01020a)"),
        ("012", "KEY: '012' has an odd number of hex digits (3); each byte is two (01 02 0a or 01020a)"),
        ("01 0x", "KEY: '0x' is not hex bytes (give bytes as 01 02 0a or 01020a)"),
        ("01 -2", "KEY: '-2' is not hex bytes: '-' is not a hex digit (give bytes as 01 02 0a or 01020a)"),
        ("01,02", "KEY: '01,02' is not hex bytes: ',' is not a hex digit (give bytes as 01 02 0a or 01020a)"),
        ("\u{FF11}", "KEY: '\u{FF11}' is not hex bytes: '\u{FF11}' is not a hex digit (give bytes as 01 02 0a or 01020a)"),
    ])
    func refused(text: String, message: String) {
        let error = #expect(throws: ValidationError.self) { try HexBytes.parse(text, argument: "KEY") }
        #expect(error?.message == message)
    }

    @Test(arguments: [
        (#""01020a""#, "01 02 0a"),
        (#""""#, ""),
        (#"["0100","0200"]"#, "[01 00, 02 00]"),
        ("42", "42"),
        (#""bash""#, #""bash""#),
        (#"["01",2]"#, #"["01",2]"#),
    ])
    func shown(json: String, text: String) {
        #expect(HexBytes.display(json) == text)
    }
}

@testable import BpfleetServer
import BpfleetShared
import Foundation
import NIOCore
import Testing

/// `iter.read`'s answer as it is written chunk by chunk: whatever the
/// chunks' boundaries cut, the whole reads as if written at once.
@Suite("iterator output")
struct IteratorOutputTests {
    /// The JSON the chunks make, parsed.
    func answer(_ chunks: [[UInt8]], recordType: BTFType? = nil, truncated: Bool = false) throws -> JSONValue {
        var output = IteratorOutput(recordType: recordType)
        var whole = ByteBuffer()
        for chunk in chunks {
            var part = output.append(chunk)
            whole.writeBuffer(&part)
        }
        var end = output.finish(bytes: chunks.reduce(0) { $0 + $1.count }, truncated: truncated)
        whole.writeBuffer(&end)
        return try JSONDecoder().decode(JSONValue.self, from: Data(whole.readableBytesView))
    }

    @Test func textCutInsideACharacterReadsWhole() throws {
        let text = Array("tâche 1 → prête\n\"quoted\"\tdone".utf8)
        for cut in 1..<text.count {
            let result = try answer([Array(text[..<cut]), Array(text[cut...])])
            #expect(result == ["output": .string(String(decoding: text, as: UTF8.self)), "encoding": "text",
                               "bytes": .int(Int64(text.count)), "truncated": false], "cut at \(cut)")
        }
    }

    @Test func bytesThatAreNotTextReadAsBase64WhereverCut() throws {
        let bytes: [UInt8] = [0xff, 0x00, 0x10, 0x80, 0x7f, 0xfe, 0x01]
        for cut in 1..<bytes.count {
            let result = try answer([Array(bytes[..<cut]), Array(bytes[cut...])])
            #expect(result["output"] == .string(Data(bytes).base64EncodedString()), "cut at \(cut)")
            #expect(result["encoding"] == "base64")
        }
    }

    @Test func textWithABadByteLaterIsMarkedLossy() throws {
        let result = try answer([Array("fine\n".utf8), [0x41, 0xff, 0x42]], truncated: true)
        #expect(result["output"] == "fine\nA\u{FFFD}B")
        #expect(result["lossy"] == true)
        #expect(result["truncated"] == true)
        #expect(result["bytes"] == 8)
    }

    @Test func recordsCutAcrossChunksReadWholeAndAPartialLastOneIsLeftOut() throws {
        let type = BTFType.integer(size: 4, signed: false, char: false, bool: false)
        let bytes: [UInt8] = [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 9, 9]
        for cut in 1..<bytes.count {
            let result = try answer([Array(bytes[..<cut]), Array(bytes[cut...])], recordType: type)
            #expect(result == ["records": [1, 2, 3], "bytes": 14, "truncated": false], "cut at \(cut)")
        }
        #expect(try answer([], recordType: type) == ["records": [], "bytes": 0, "truncated": false])
        #expect(try answer([]) == ["output": "", "encoding": "text", "bytes": 0, "truncated": false])
    }
}

import BpfleetShared
import Testing

/// `node.btf`'s paging and module names, as the server checks them.
struct NodeBTFChunkTests {
    @Test func chunksCoverTheAnswerAndStopAtItsEnd() throws {
        #expect(try NodeBTF.chunk(totalBytes: 10, offset: nil, maxBytes: nil) == 0..<10)
        #expect(try NodeBTF.chunk(totalBytes: 10, offset: 4, maxBytes: 3) == 4..<7)
        #expect(try NodeBTF.chunk(totalBytes: 10, offset: 8, maxBytes: 3) == 8..<10)
        #expect(try NodeBTF.chunk(totalBytes: 10, offset: 10, maxBytes: 3) == 10..<10)
        #expect(try NodeBTF.chunk(totalBytes: 10, offset: 3, maxBytes: 0) == 3..<3)
        #expect(try NodeBTF.chunk(totalBytes: 0, offset: 0, maxBytes: nil) == 0..<0)
        let big = 20 << 20
        #expect(try NodeBTF.chunk(totalBytes: big, offset: nil, maxBytes: nil) == 0..<NodeBTF.defaultMaxBytes)
        #expect(try NodeBTF.chunk(totalBytes: big, offset: 1, maxBytes: NodeBTF.largestMaxBytes) == 1..<(1 + NodeBTF.largestMaxBytes))
        // The server's first check, before it reads anything, must not overflow.
        #expect(try NodeBTF.chunk(totalBytes: Int.max, offset: Int.max, maxBytes: NodeBTF.largestMaxBytes) == Int.max..<Int.max)
    }

    @Test func badOffsetsAndSizesNameTheirField() {
        #expect(throws: ResponseError(.invalidParams, "offset: must not be negative", data: ["field": "offset"])) {
            try NodeBTF.chunk(totalBytes: 10, offset: -1, maxBytes: nil)
        }
        #expect(throws: ResponseError(.invalidParams, "offset: must not be negative", data: ["field": "offset"])) {
            try NodeBTF.chunk(totalBytes: 10, offset: Int.min, maxBytes: nil)
        }
        #expect(throws: ResponseError(.invalidParams, "offset: 11 is past the end of the 10 bytes", data: ["field": "offset"])) {
            try NodeBTF.chunk(totalBytes: 10, offset: 11, maxBytes: nil)
        }
        #expect(throws: ResponseError(.invalidParams, "maxBytes: 0 to 8388608 bytes", data: ["field": "maxBytes"])) {
            try NodeBTF.chunk(totalBytes: 10, offset: 0, maxBytes: -1)
        }
        #expect(throws: ResponseError(.invalidParams, "maxBytes: 0 to 8388608 bytes", data: ["field": "maxBytes"])) {
            try NodeBTF.chunk(totalBytes: 10, offset: 0, maxBytes: NodeBTF.largestMaxBytes + 1)
        }
    }

    @Test func moduleNamesAreShortPlainWords() {
        for good in ["nf_tables", "xfs", "i915", "snd-hda-intel", String(repeating: "m", count: 64)] {
            #expect(NodeBTF.moduleNameProblem(good) == nil, "\(good)")
        }
        let plain = "(letters, digits, '_' and '-' only)"
        #expect(NodeBTF.moduleNameProblem("../x") == "module: '../x' is not a module name \(plain)")
        #expect(NodeBTF.moduleNameProblem("..") == "module: '..' is not a module name \(plain)")
        #expect(NodeBTF.moduleNameProblem("a/b") == "module: 'a/b' is not a module name \(plain)")
        #expect(NodeBTF.moduleNameProblem("a\0b") == "module: 'a\0b' is not a module name \(plain)")
        #expect(NodeBTF.moduleNameProblem("modulé") == "module: 'modulé' is not a module name \(plain)")
        #expect(NodeBTF.moduleNameProblem("") == "module: a module name is 1 to 64 characters")
        #expect(NodeBTF.moduleNameProblem(String(repeating: "m", count: 65)) == "module: a module name is 1 to 64 characters")
        #expect(NodeBTF.moduleNameProblem("vmlinux") == "module: vmlinux is not a module (leave module out for it)")
    }
}

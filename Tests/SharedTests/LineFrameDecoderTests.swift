import BpfleetShared
import NIOCore
import NIOEmbedded
import Testing

/// A decoded frame in a form that compares and prints well.
private enum Frame: Equatable, CustomStringConvertible {
    case line(String)
    case oversized(Int)

    init(_ frame: LineFrame) {
        switch frame {
        case .line(let buffer): self = .line(String(buffer: buffer))
        case .oversized(let size): self = .oversized(size)
        }
    }

    var description: String {
        switch self {
        case .line(let text): "line(\(text.debugDescription))"
        case .oversized(let size): "oversized(\(size))"
        }
    }
}

/// An EmbeddedChannel with the decoder installed the way the transports use it.
private struct DecoderHarness {
    let channel = EmbeddedChannel()

    init(limit: Int) throws {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: limit)))
    }

    /// Every chunk is its own channelRead.
    func write(_ chunks: [String]) throws {
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(string: chunk))
        }
    }

    func write(_ text: String) throws { try write([text]) }

    /// Every byte of `text` is its own channelRead.
    func writeByteAtATime(_ text: String) throws {
        for byte in text.utf8 {
            var buffer = channel.allocator.buffer(capacity: 1)
            buffer.writeInteger(byte)
            try channel.writeInbound(buffer)
        }
    }

    func frames() throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try channel.readInbound(as: LineFrame.self) {
            frames.append(Frame(frame))
        }
        return frames
    }

    /// Closes the channel (end of stream); true when nothing was left in
    /// it, in particular no frame emitted by `decodeLast`.
    func finishIsClean() throws -> Bool {
        try channel.finish().isClean
    }
}

@Suite("LineFrameDecoder on an EmbeddedChannel")
struct LineFrameDecoderTests {
    @Test func wholeLineInOneWrite() throws {
        let harness = try DecoderHarness(limit: 64)
        try harness.write(#"{"jsonrpc":"2.0","id":1,"method":"node.info"}"# + "\n")
        #expect(try harness.frames() == [.line(#"{"jsonrpc":"2.0","id":1,"method":"node.info"}"#)])
        #expect(try harness.finishIsClean())
    }

    @Test func severalLinesInOneBuffer() throws {
        let harness = try DecoderHarness(limit: 64)
        try harness.write("a\nbb\nccc\n")
        #expect(try harness.frames() == [.line("a"), .line("bb"), .line("ccc")])
    }

    @Test func lineSplitAcrossWrites() throws {
        let harness = try DecoderHarness(limit: 64)
        try harness.write([#"{"id":"#, "1}", "\n{", "\"id\":2}\n"])
        #expect(try harness.frames() == [.line(#"{"id":1}"#), .line(#"{"id":2}"#)])
    }

    @Test func nothingIsEmittedBeforeTheNewline() throws {
        let harness = try DecoderHarness(limit: 64)
        try harness.write("abc")
        #expect(try harness.frames() == [])
        try harness.write("\n")
        #expect(try harness.frames() == [.line("abc")])
    }

    @Test func multiLineStreamByteAtATime() throws {
        let harness = try DecoderHarness(limit: 32)
        let stream = "{\"id\":1}\n\r\n{\"s\":\"é😀\"}\r\n  \t\nlast\n" + String(repeating: "x", count: 40) + "\nafter\n"
        try harness.writeByteAtATime(stream)
        #expect(try harness.frames() == [
            .line(#"{"id":1}"#),
            .line(#"{"s":"é😀"}"#),
            .line("last"),
            .oversized(40),
            .line("after"),
        ])
        #expect(try harness.finishIsClean())
    }

    @Test func crlfEndingIsStripped() throws {
        let harness = try DecoderHarness(limit: 64)
        try harness.write("abc\r\ndef\r\n")
        #expect(try harness.frames() == [.line("abc"), .line("def")])
    }

    @Test func carriageReturnInsideALineIsKept() throws {
        let harness = try DecoderHarness(limit: 64)
        try harness.write("a\rb\n")
        #expect(try harness.frames() == [.line("a\rb")])
    }

    @Test func blankAndWhitespaceOnlyLinesAreSkipped() throws {
        let harness = try DecoderHarness(limit: 64)
        try harness.write("\n\na\n\r\n \t \n\t\r\nb\n\n")
        #expect(try harness.frames() == [.line("a"), .line("b")])
    }

    @Test func leadingAndTrailingSpacesOfANonBlankLineAreKept() throws {
        let harness = try DecoderHarness(limit: 64)
        try harness.write("  {} \n")
        #expect(try harness.frames() == [.line("  {} ")])
    }

    @Test func lineExactlyAtTheLimitPasses() throws {
        let harness = try DecoderHarness(limit: 5)
        try harness.write("abcde\n")
        #expect(try harness.frames() == [.line("abcde")])
    }

    @Test func lineExactlyAtTheLimitPassesWhenItsNewlineComesLater() throws {
        let harness = try DecoderHarness(limit: 5)
        try harness.write(["abcde", "\n"])
        #expect(try harness.frames() == [.line("abcde")])
    }

    @Test func lineExactlyAtTheLimitPassesByteAtATime() throws {
        let harness = try DecoderHarness(limit: 5)
        try harness.writeByteAtATime("abcde\nfghij\n")
        #expect(try harness.frames() == [.line("abcde"), .line("fghij")])
    }

    @Test func lineOneOverTheLimitIsOversized() throws {
        let harness = try DecoderHarness(limit: 5)
        try harness.write("abcdef\nok\n")
        #expect(try harness.frames() == [.oversized(6), .line("ok")])
    }

    @Test func overLongLineInOneWriteThenTheNextLineDecodes() throws {
        let harness = try DecoderHarness(limit: 8)
        try harness.write(String(repeating: "x", count: 100) + "\n{\"id\":7}\n")
        #expect(try harness.frames() == [.oversized(100), .line(#"{"id":7}"#)])
    }

    @Test func overLongLineInOneWriteThenTheNextLineInALaterWrite() throws {
        let harness = try DecoderHarness(limit: 8)
        try harness.write(String(repeating: "x", count: 20) + "\n")
        #expect(try harness.frames() == [.oversized(20)])
        try harness.write("ok\n")
        #expect(try harness.frames() == [.line("ok")])
    }

    @Test func overLongLineDribbledInSmallPiecesThenTheNextLineDecodes() throws {
        let harness = try DecoderHarness(limit: 8)
        // 3 + 3 + 3 bytes pass the limit with no newline in sight; the
        // decoder drops them and keeps counting until the newline.
        try harness.write(["012", "345", "678"])
        #expect(try harness.frames() == [])
        try harness.write(["9", "abc\nok\n"])
        #expect(try harness.frames() == [.oversized(13), .line("ok")])
    }

    @Test func overLongLineByteAtATimeThenTheNextLineDecodes() throws {
        let harness = try DecoderHarness(limit: 4)
        try harness.writeByteAtATime(String(repeating: "y", count: 12) + "\nb\n")
        #expect(try harness.frames() == [.oversized(12), .line("b")])
    }

    @Test func overLongLineAfterACompleteLineInTheSameBufferCountsOnlyItself() throws {
        let harness = try DecoderHarness(limit: 8)
        try harness.write("ok\n" + String(repeating: "z", count: 10))
        #expect(try harness.frames() == [.line("ok")])
        try harness.write(["zz", "\nnext\n"])
        #expect(try harness.frames() == [.oversized(12), .line("next")])
    }

    @Test func twoOverLongLinesInARow() throws {
        let harness = try DecoderHarness(limit: 4)
        try harness.write(["aaaaaa", "a\nbbbbbbbbb", "\nc\n"])
        #expect(try harness.frames() == [.oversized(7), .oversized(9), .line("c")])
    }

    @Test func partialLineAtEndOfStreamIsNotEmitted() throws {
        let harness = try DecoderHarness(limit: 64)
        try harness.write("a\n{\"id\":2")
        #expect(try harness.frames() == [.line("a")])
        #expect(try harness.finishIsClean())
    }

    @Test func partialOverLongLineAtEndOfStreamIsNotEmitted() throws {
        let harness = try DecoderHarness(limit: 4)
        try harness.write("ok\n" + String(repeating: "x", count: 10))
        #expect(try harness.frames() == [.line("ok")])
        #expect(try harness.finishIsClean())
    }

    @Test func nextFrameCanBeDrivenWithoutAChannel() {
        var decoder = LineFrameDecoder(maximumLength: 3)
        var buffer = ByteBuffer(string: "ab\nabcd\nc")
        #expect(decoder.nextFrame(&buffer).map(Frame.init) == .line("ab"))
        #expect(decoder.nextFrame(&buffer).map(Frame.init) == .oversized(4))
        #expect(decoder.nextFrame(&buffer) == nil)
        #expect(buffer.readableBytes == 1)
    }
}

@Suite("LineFrameEncoder")
struct LineFrameEncoderTests {
    private func encoderChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(LineFrameEncoder()))
        return channel
    }

    @Test func appendsOneNewline() throws {
        let channel = try encoderChannel()
        try channel.writeOutbound(ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":{}}"#))
        let out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: out) == #"{"jsonrpc":"2.0","id":1,"result":{}}"# + "\n")
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(try channel.finish().isClean)
    }

    @Test func emptyMessageIsJustANewline() throws {
        let channel = try encoderChannel()
        try channel.writeOutbound(ByteBuffer())
        let out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(out.readableBytesView) == [0x0A])
    }

    @Test func eachMessageIsItsOwnLine() throws {
        let channel = try encoderChannel()
        try channel.writeOutbound(ByteBuffer(string: "one"))
        try channel.writeOutbound(ByteBuffer(string: "two"))
        var text = ""
        while let out = try channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: out)
        }
        #expect(text == "one\ntwo\n")
    }

    @Test func encoderOutputDecodesBackToTheSameMessages() throws {
        let encoder = LineFrameEncoder()
        var wire = ByteBuffer()
        let messages = [#"{"a":1}"#, #"{"b":"x y"}"#, "é"]
        for message in messages {
            try encoder.encode(data: ByteBuffer(string: message), out: &wire)
        }
        var decoder = LineFrameDecoder(maximumLength: 64)
        var decoded: [LineFrame] = []
        while let frame = decoder.nextFrame(&wire) { decoded.append(frame) }
        #expect(decoded == messages.map { .line(ByteBuffer(string: $0)) })
    }
}

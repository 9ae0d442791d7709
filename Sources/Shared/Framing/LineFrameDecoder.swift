import NIOCore

/// One inbound frame: a complete line, or the size of a line that was over
/// the limit and has been discarded (so the peer can be told, and the
/// connection stays usable).
public enum LineFrame: Sendable, Equatable {
    case line(ByteBuffer)
    case oversized(Int)
}

/// Splits a byte stream into `\n`-terminated lines of at most `maximumLength`
/// bytes. A longer line is skipped up to its newline, never buffered whole,
/// so memory per connection stays bounded by the limit.
public struct LineFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = LineFrame

    public let maximumLength: Int
    /// Bytes of the current line already searched for a newline.
    private var searched = 0
    /// Bytes of an over-long line dropped so far; nil when not discarding.
    private var discarded: Int?

    public init(maximumLength: Int) {
        precondition(maximumLength > 0)
        self.maximumLength = maximumLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = nextFrame(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A line without its newline at end of stream is an unfinished
        // message (the peer went away mid-request): it is not executed.
        while let frame = nextFrame(&buffer) {
            context.fireChannelRead(wrapInboundOut(frame))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    /// The next frame in `buffer`, consuming it; nil when more bytes are needed.
    public mutating func nextFrame(_ buffer: inout ByteBuffer) -> LineFrame? {
        while true {
            let newline = buffer.withUnsafeReadableBytes { bytes -> Int? in
                guard searched < bytes.count else { return nil }
                return bytes[searched...].firstIndex(of: UInt8(ascii: "\n"))
            }
            if let discardedSoFar = discarded {
                if let newline {
                    buffer.moveReaderIndex(forwardBy: newline + 1)
                    discarded = nil
                    searched = 0
                    return .oversized(discardedSoFar + newline)
                }
                discarded = discardedSoFar + buffer.readableBytes
                buffer.moveReaderIndex(to: buffer.writerIndex)
                searched = 0
                return nil
            }
            guard let newline else {
                if buffer.readableBytes > maximumLength {
                    discarded = buffer.readableBytes
                    buffer.moveReaderIndex(to: buffer.writerIndex)
                    searched = 0
                } else {
                    searched = buffer.readableBytes
                }
                return nil
            }
            searched = 0
            guard var line = buffer.readSlice(length: newline + 1) else { return nil }  // newline is within the readable bytes
            line.moveWriterIndex(to: line.writerIndex - 1)
            if line.readableBytes > maximumLength {
                return .oversized(line.readableBytes)
            }
            if line.getInteger(at: line.writerIndex &- 1, as: UInt8.self) == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            // Blank lines carry no message; skip them.
            let blank = line.withUnsafeReadableBytes { bytes in
                bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 }
            }
            if blank { continue }
            return .line(line)
        }
    }
}

/// Writes each outbound ByteBuffer as one line.
public struct LineFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer
    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        var data = data
        out.writeBuffer(&data)
        out.writeInteger(UInt8(ascii: "\n"))
    }
}

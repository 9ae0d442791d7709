import NIOCore

/// The outbound side of one connection. Replies run concurrently, so each
/// message is written under a one-permit semaphore: a streamed snapshot
/// written in many pieces is never cut into by another reply.
final class ConnectionWriter: ReplySink, Sendable {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let channel: any Channel
    private let turn = AsyncSemaphore(permits: 1)

    init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel) {
        self.outbound = outbound
        self.channel = channel
    }

    func write(_ bytes: ByteBuffer) async throws {
        await turn.wait()
        defer { turn.signal() }
        try await outbound.write(bytes)
    }

    func exclusively(_ body: @Sendable (any ReplySink) async -> Void) async {
        await turn.wait()
        defer { turn.signal() }
        await body(Unlocked(outbound: outbound, channel: channel))
    }

    func abort() async {
        try? await channel.close()
    }

    /// The writer as seen from inside `exclusively`.
    private struct Unlocked: ReplySink {
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        let channel: any Channel

        func write(_ bytes: ByteBuffer) async throws {
            try await outbound.write(bytes)
        }

        func abort() async {
            try? await channel.close()
        }
    }
}

import NIOCore

/// The outbound side of one connection. Replies run concurrently, so each
/// message is handed to the channel under a one-permit semaphore: a
/// streamed snapshot written in many pieces is never cut into by another
/// reply.
///
/// Every write returns only once its bytes are in the kernel's socket
/// buffer (or the connection is gone): a client that stops reading holds
/// up the writers of its own connection, each holding the one message it
/// is writing, and nothing queues behind them unseen (docs/security.md, "Fair under abuse").
/// It also means that when every reply task of a connection has returned,
/// every reply is on the wire, so a half-closed connection is closed only
/// after its last reply went out whole.
final class ConnectionWriter: ReplySink, Sendable {
    private let channel: any Channel
    private let turn = AsyncSemaphore(permits: 1)

    init(channel: any Channel) {
        self.channel = channel
    }

    func write(_ bytes: ByteBuffer) async throws {
        try await write([bytes])
    }

    func write(_ pieces: [ByteBuffer]) async throws {
        // In the channel's order while the turn is held; waited for after,
        // so that the next reply can be queued behind this one meanwhile.
        await turn.wait()
        let written = Self.hand(pieces, to: channel)
        turn.signal()
        try await Self.waitUnlessCancelled(for: written)
    }

    /// Waits for `written`; a cancelled task (a subscription ended by an
    /// unload) stops waiting at once and leaves the bytes queued: a client
    /// that does not read must not hold up whoever cancelled it.
    static func waitUnlessCancelled(for written: EventLoopFuture<Void>) async throws {
        let waiter = written.eventLoop.makePromise(of: Void.self)
        written.cascade(to: waiter)
        try await withTaskCancellationHandler {
            try await waiter.futureResult.get()
        } onCancel: {
            waiter.fail(CancellationError())
        }
    }

    func exclusively(_ body: @Sendable (any ReplySink) async -> Void) async {
        await turn.wait()
        defer { turn.signal() }
        await body(Unlocked(channel: channel))
        // Returns once the last piece is on the wire, as `write` does: an
        // empty write completes after every write before it.
        try? await channel.writeAndFlush(ByteBuffer()).get()
    }

    func abort() async {
        try? await channel.close()
    }

    /// Writes `pieces` as one flush; the future completes when the last is
    /// written.
    fileprivate static func hand(_ pieces: [ByteBuffer], to channel: any Channel) -> EventLoopFuture<Void> {
        guard let last = pieces.last else { return channel.eventLoop.makeSucceededVoidFuture() }
        for piece in pieces.dropLast() { channel.write(piece, promise: nil) }
        return channel.writeAndFlush(last)
    }

    /// The writer as seen from inside `exclusively`: a piece is waited for
    /// when the channel holds more than its high-water mark of unwritten
    /// bytes, so a streamed result larger than memory never queues whole,
    /// while the next piece is encoded as this one is written.
    private struct Unlocked: ReplySink {
        let channel: any Channel

        func write(_ bytes: ByteBuffer) async throws {
            try await write([bytes])
        }

        func write(_ pieces: [ByteBuffer]) async throws {
            // A result streamed to a connection that is gone stops here,
            // not after it has been encoded to the end.
            guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
            let written = ConnectionWriter.hand(pieces, to: channel)
            if !channel.isWritable { try await ConnectionWriter.waitUnlessCancelled(for: written) }
        }

        func abort() async {
            try? await channel.close()
        }
    }
}

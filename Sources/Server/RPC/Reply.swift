import BpfleetShared
import NIOCore

/// Where a streamed result's bytes go: a connection, or a batch's buffer.
protocol ReplySink: Sendable {
    /// Writes bytes that form one whole message (or part of one, inside
    /// `exclusively`).
    func write(_ bytes: ByteBuffer) async throws
    /// Writes pieces that form one whole message, in order and uncut,
    /// without joining them: a map watch's notification is a small head
    /// and a body that every watcher of the map shares.
    func write(_ pieces: [ByteBuffer]) async throws
    /// Runs `body` with a sink no other reply can interleave with, for a
    /// message written in several pieces.
    func exclusively(_ body: @Sendable (any ReplySink) async -> Void) async
    /// Gives up on the connection (a streamed reply failed half-way).
    func abort() async
}

extension ReplySink {
    func write(_ pieces: [ByteBuffer]) async throws {
        var whole = ByteBuffer()
        for var piece in pieces { whole.writeBuffer(&piece) }
        try await write(whole)
    }

    func exclusively(_ body: @Sendable (any ReplySink) async -> Void) async {
        await body(self)
    }

    func abort() async {}
}

/// What a method answers: a value for JSONEncoder, or a result written in
/// pieces (a large map snapshot), never held whole in memory.
enum Reply: Sendable {
    case value(any Encodable & Sendable)
    case stream(@Sendable (any ReplySink) async throws -> Void)
    /// A value, and what to start once it is on the wire (a subscription's
    /// notifications must follow the reply that names it).
    case subscribed(any Encodable & Sendable, start: @Sendable () -> Void)
}

/// A method the server implements.
protocol ServedMethod: RPCMethod {
    func serve(_ context: CallContext) async throws -> Reply
}

/// The common case: a typed result.
protocol ValueMethod: ServedMethod {
    func handle(_ context: CallContext) async throws -> Result
}

extension ValueMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        .value(try await handle(context))
    }
}

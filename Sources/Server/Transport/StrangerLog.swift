import BpfleetShared
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Peers with no role, refused at connect. Each refusal is logged, at most
/// `perMinute` lines a minute (a stranger reconnecting in a loop costs one
/// line now and then, with a count of those not logged), and its connection
/// lingers, output closed and input discarded unparsed, for at most
/// `lingerSeconds`: closed at once, a socket with unread bytes in it (the
/// stranger's first request) would be reset, and the client would see the
/// reset instead of the refusal. At most `maxLingering` linger at a time;
/// beyond them a stranger is closed at once.
final class StrangerLog: Sendable {
    private struct State {
        var windowStart = NIODeadline.now()
        var logged = 0
        var unlogged = 0
        var lingering = 0
    }

    private let state = NIOLockedValueBox(State())
    let perMinute: Int
    let lingerSeconds: Double
    let maxLingering: Int

    init(perMinute: Int = 10, lingerSeconds: Double = 1, maxLingering: Int = 64) {
        self.perMinute = perMinute
        self.lingerSeconds = lingerSeconds
        self.maxLingering = maxLingering
    }

    /// Holds a refused connection open until its peer closes it or
    /// `lingerSeconds` pass, reading and dropping whatever it sends.
    func linger(_ channel: any Channel, inbound: NIOAsyncChannelInboundStream<LineFrame>) async {
        let admitted = state.withLockedValue { state -> Bool in
            guard state.lingering < maxLingering else { return false }
            state.lingering += 1
            return true
        }
        guard admitted else { return }
        defer { state.withLockedValue { $0.lingering -= 1 } }
        // Dropped before the line decoder: nothing is buffered or parsed.
        let discarding = channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(DiscardInbound(), position: .first)
        }
        guard (try? await discarding.get()) != nil else { return }
        channel.close(mode: .output, promise: nil)
        let seconds = lingerSeconds
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await _ in inbound {}
                } catch {}
            }
            group.addTask { try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) }
            await group.next()
            group.cancelAll()
        }
    }

    func refused(_ peer: PeerIdentity, logger: Logger) {
        let unloggedBefore = state.withLockedValue { state -> Int? in
            let now = NIODeadline.now()
            if now - state.windowStart >= .minutes(1) {
                state.windowStart = now
                state.logged = 0
            }
            guard state.logged < perMinute else {
                state.unlogged += 1
                return nil
            }
            state.logged += 1
            defer { state.unlogged = 0 }
            return state.unlogged
        }
        guard let unloggedBefore else { return }
        var metadata: Logger.Metadata = ["peer": "\(peer)"]
        if unloggedBefore > 0 { metadata["notLogged"] = "\(unloggedBefore)" }
        logger.notice("connection refused: no role on this node", metadata: metadata)
    }
}

/// Drops every inbound byte of a refused connection.
private final class DiscardInbound: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

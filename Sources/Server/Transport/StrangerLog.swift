import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Logs connections refused for want of a role, at most `perMinute` lines a
/// minute: a stranger reconnecting in a loop costs one line now and then,
/// with a count of those not logged.
final class StrangerLog: Sendable {
    private struct State {
        var windowStart = NIODeadline.now()
        var logged = 0
        var unlogged = 0
    }

    private let state = NIOLockedValueBox(State())
    let perMinute: Int

    init(perMinute: Int = 10) {
        self.perMinute = perMinute
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

import NIOConcurrencyHelpers
import NIOCore

/// The connections a listener is serving. At shutdown their inbound side is
/// closed: requests already read are answered, then each connection ends,
/// so an idle client cannot keep bpfleetd from stopping; a client that does
/// not read its replies is closed outright after a grace period.
final class OpenConnections: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var closing = false
    }

    private let state = NIOLockedValueBox(State())

    /// False once shutdown has begun: the caller ends the connection.
    func insert(_ channel: any Channel) -> Bool {
        state.withLockedValue { state in
            state.channels[ObjectIdentifier(channel)] = channel
            return !state.closing
        }
    }

    func remove(_ channel: any Channel) {
        _ = state.withLockedValue { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func closeInbound() {
        let open = state.withLockedValue { state in
            state.closing = true
            return Array(state.channels.values)
        }
        for channel in open {
            channel.close(mode: .input).whenFailure { _ in channel.close(promise: nil) }
        }
    }

    /// Closes every connection still open, replies unsent or not.
    func closeAll() {
        let open = state.withLockedValue { state in
            state.closing = true
            return Array(state.channels.values)
        }
        for channel in open { channel.close(promise: nil) }
    }
}

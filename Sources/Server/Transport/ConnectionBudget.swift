import BpfleetShared
import NIOConcurrencyHelpers

/// Counts open connections, in all and per identity, across every listener.
/// Only peers with a role are counted (a peer with none is let go at
/// connect), and the last `operatorReserve` places of the total are kept
/// for operators: viewers, however many identities they have, cannot lock
/// an operator out.
final class ConnectionBudget: Sendable {
    private struct State {
        var total = 0
        var perIdentity: [String: Int] = [:]
    }

    private let state = NIOLockedValueBox(State())
    let maxTotal: Int
    let maxPerIdentity: Int
    /// Places only operators may take: a sixteenth of the total.
    let operatorReserve: Int

    init(maxTotal: Int, maxPerIdentity: Int) {
        self.maxTotal = maxTotal
        self.maxPerIdentity = maxPerIdentity
        self.operatorReserve = maxTotal / 16
    }

    /// Takes a place for `peer`, whose role is `role`, or says which limit
    /// is in the way.
    func admit(_ peer: PeerIdentity, role: Role) -> ResponseError? {
        state.withLockedValue { state in
            if state.total >= maxTotal {
                return .limitExceeded("maxConnections", maxTotal, "the node has \(maxTotal) connections open, its limit; try again later")
            }
            if role < .operator, state.total >= maxTotal - operatorReserve {
                return .limitExceeded("maxConnections", maxTotal,
                                      "the node has \(state.total) connections open; its last \(operatorReserve) of \(maxTotal) are kept for operators")
            }
            let key = peer.limitKey
            if state.perIdentity[key, default: 0] >= maxPerIdentity {
                return .limitExceeded("maxConnectionsPerIdentity", maxPerIdentity,
                                      "\(peer) has \(maxPerIdentity) connections open, the limit per identity")
            }
            state.total += 1
            state.perIdentity[key, default: 0] += 1
            return nil
        }
    }

    func release(_ peer: PeerIdentity) {
        state.withLockedValue { state in
            state.total -= 1
            let key = peer.limitKey
            state.perIdentity[key, default: 1] -= 1
            if state.perIdentity[key] == 0 { state.perIdentity[key] = nil }
        }
    }
}

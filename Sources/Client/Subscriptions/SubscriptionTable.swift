import BpfleetShared
import Foundation

/// A connection's open subscriptions by id. The router delivers to it on
/// the event loop; subscribers register and retire from their own tasks.
final class SubscriptionTable: @unchecked Sendable {
    private let lock = NSLock()
    private var open: [Int: SubscriptionBuffer] = [:]
    /// Ids this client stopped listening to: what the node still sends for
    /// them (it may have been on its way already) is dropped, not handed to
    /// the connection's hook.
    private var retired: Set<Int> = []
    /// Set when the connection ended; a subscription registered afterwards
    /// fails at once.
    private var ending: (any Error)?

    /// Routes the node's answer to a subscribing call: false when the
    /// consumer had already stopped, and the node must be told.
    func register(id: Int, _ buffer: SubscriptionBuffer) -> Bool {
        lock.lock()
        guard buffer.attach(id: id) else {
            retired.insert(id)
            lock.unlock()
            return false
        }
        if let ending {
            lock.unlock()
            buffer.fail(ending)
            return true
        }
        open[id] = buffer
        lock.unlock()
        return true
    }

    func retire(_ id: Int) {
        lock.lock()
        open.removeValue(forKey: id)
        retired.insert(id)
        lock.unlock()
    }

    /// Hands a notification to its subscription; false when it names none
    /// of this connection's subscriptions, for the connection's hook.
    func deliver(_ notification: ServerNotification) -> Bool {
        guard notification.method.hasPrefix("subscription."),
              let parsed = SubscriptionNotification(notification) else { return false }
        lock.lock()
        let buffer = open[parsed.subscription]
        if parsed.isEnd, buffer != nil {
            open.removeValue(forKey: parsed.subscription)
            retired.insert(parsed.subscription)
        }
        let known = buffer != nil || retired.contains(parsed.subscription)
        lock.unlock()
        buffer?.deliver(parsed)
        return known
    }

    /// The connection ended: every subscription ends with `error` once its
    /// queue is read.
    func failAll(_ error: any Error) {
        lock.lock()
        if ending == nil { ending = error }
        let buffers = open.values
        open.removeAll()
        lock.unlock()
        for buffer in buffers { buffer.fail(error) }
    }
}

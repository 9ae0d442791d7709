import BpfleetShared
import Foundation

/// A connection's open subscriptions by id. The router delivers to it on
/// the event loop; subscribers register and retire from their own tasks.
///
/// It also says when the connection should stop reading: while an events
/// subscription's consumer is `limit` notifications behind, unless another
/// subscription's consumer waits for its next one (which may be in the
/// unread bytes). The router asks at each `read()`; buffers say when that
/// answer may have changed, and a held reader is woken.
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
    /// The router left a `read()` unforwarded on the last `holdReader`.
    private var readerHeld = false
    /// Asks the channel to read again (the router re-decides); set by the
    /// router when it joins the pipeline.
    private var wakeReader: (@Sendable () -> Void)?

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
        let wake = takeWakeLocked()
        lock.unlock()
        wake?()
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
        readerHeld = false
        wakeReader = nil
        lock.unlock()
        for buffer in buffers { buffer.fail(error) }
    }

    // MARK: The connection's reader

    /// For the router, which calls `wake` (on any thread) to be asked
    /// again; nil when the router leaves.
    func setWakeReader(_ wake: (@Sendable () -> Void)?) {
        lock.lock()
        wakeReader = wake
        lock.unlock()
    }

    /// For the router's `read()` when no call waits for an answer: whether
    /// to leave the socket unread, because an events subscription's consumer
    /// is `limit` behind and no other consumer waits on this connection.
    /// A true answer is remembered, and `flowChanged` wakes the reader.
    func holdReader() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        var behind = false
        for buffer in open.values {
            // A waiting consumer may be waiting for what lies unread:
            // holding the reader could leave it waiting for good.
            if buffer.consumerWaits {
                behind = false
                break
            }
            if buffer.holdsReader { behind = true }
        }
        readerHeld = behind
        return behind
    }

    /// For the router, when a call goes out (its answer lies behind
    /// whatever the node sends first): whether the reader was held, and
    /// must now read.
    func releaseReader() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let held = readerHeld
        readerHeld = false
        return held
    }

    /// For the buffers: their consumer took, waits, or stopped, so a held
    /// reader may read again.
    func flowChanged() {
        lock.lock()
        let wake = takeWakeLocked()
        lock.unlock()
        wake?()
    }

    /// The wake to call once the lock is let go, if the reader is held.
    private func takeWakeLocked() -> (@Sendable () -> Void)? {
        guard readerHeld else { return nil }
        readerHeld = false
        return wakeReader
    }
}

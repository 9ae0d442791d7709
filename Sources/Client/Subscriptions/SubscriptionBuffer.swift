import BpfleetShared
import Foundation

/// The notifications of one subscription between the connection's event
/// loop, which delivers them, and the one task that consumes them.
///
/// Bounded: the node already coalesces for a reader that does not keep up,
/// so this holds only a few notifications. When the consumer falls further
/// behind, the oldest goes, and the one after it says so (`droppedBefore`,
/// and for events the records it held). A delta watch's notification is
/// merged into the next instead, so the map can still be rebuilt.
final class SubscriptionBuffer: @unchecked Sendable {
    enum State {
        case open
        /// The node sent `subscription.end`; it is delivered after the queue.
        case ended(SubscriptionNotification?)
        /// The connection ended; the queue is delivered, then the error.
        case failed((any Error)?)
        /// The consumer stopped (cancelled, or let go of the subscription).
        case stopped
    }

    private let lock = NSLock()
    private let limit: Int
    private var queue: [SubscriptionNotification] = []
    private var state = State.open
    private var waiter: CheckedContinuation<SubscriptionNotification?, any Error>?
    /// The id, once the node has answered with it.
    private var id: Int?
    /// Called once, outside the lock, when the consumer stops while the
    /// node still holds the subscription: tells the node to cancel it.
    private let onConsumerStop: @Sendable (Int) -> Void

    init(limit: Int, onConsumerStop: @escaping @Sendable (Int) -> Void) {
        precondition(limit >= 1, "a subscription buffer holds at least one notification")
        self.limit = limit
        self.onConsumerStop = onConsumerStop
    }

    // MARK: The node's side (the event loop)

    /// Records the id the node gave; false when the consumer has already
    /// stopped, and the node must be told at once.
    func attach(id: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard case .open = state else { return false }
        self.id = id
        return true
    }

    func deliver(_ notification: SubscriptionNotification) {
        lock.lock()
        guard case .open = state else {
            lock.unlock()
            return
        }
        if notification.isEnd {
            if queue.isEmpty, let waiter {
                self.waiter = nil
                state = .ended(nil)
                lock.unlock()
                waiter.resume(returning: notification)
            } else {
                state = .ended(notification)
                lock.unlock()
            }
            return
        }
        if let waiter {
            // A waiting consumer means an empty queue.
            self.waiter = nil
            lock.unlock()
            waiter.resume(returning: notification)
            return
        }
        queue.append(notification)
        if queue.count > limit {
            let oldest = queue.removeFirst()
            queue[0] = Self.absorb(oldest, into: queue[0])
        }
        lock.unlock()
    }

    /// The connection ended: what is queued is still delivered, then `error`.
    func fail(_ error: any Error) {
        lock.lock()
        guard case .open = state else {
            lock.unlock()
            return
        }
        if queue.isEmpty, let waiter {
            self.waiter = nil
            state = .failed(nil)
            lock.unlock()
            waiter.resume(throwing: error)
        } else {
            state = .failed(error)
            lock.unlock()
        }
    }

    // MARK: The consumer's side

    func next() async throws -> SubscriptionNotification? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<SubscriptionNotification?, any Error>) in
                lock.lock()
                if let ready = takeLocked() {
                    lock.unlock()
                    continuation.resume(with: ready)
                    return
                }
                if Task.isCancelled {
                    let stopped = stopLocked()
                    lock.unlock()
                    continuation.resume(returning: nil)
                    if let stopped { onConsumerStop(stopped) }
                    return
                }
                precondition(waiter == nil, "a subscription has one consumer")
                waiter = continuation
                lock.unlock()
            }
        } onCancel: {
            consumerStopped()
        }
    }

    /// The consumer stopped: nothing more is delivered, and the node is told
    /// (through `onConsumerStop`) if it still holds the subscription.
    func consumerStopped() {
        if let id = stop() { onConsumerStop(id) }
    }

    /// Stops delivery; returns the id when the node still holds the
    /// subscription and must be told (by whoever called this).
    func stop() -> Int? {
        lock.lock()
        let id = stopLocked()
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(returning: nil)
        return id
    }

    var isOpen: Bool {
        lock.lock()
        defer { lock.unlock() }
        if case .open = state { return true }
        return false
    }

    // MARK: Under the lock

    /// The next thing to hand the consumer, or nil to wait.
    private func takeLocked() -> Result<SubscriptionNotification?, any Error>? {
        if !queue.isEmpty { return .success(queue.removeFirst()) }
        switch state {
        case .open:
            return nil
        case .ended(let end):
            state = .ended(nil)
            return .success(end)
        case .failed(let error):
            state = .failed(nil)
            if let error { return .failure(error) }
            return .success(nil)
        case .stopped:
            return .success(nil)
        }
    }

    private func stopLocked() -> Int? {
        let wasOpen: Bool
        if case .open = state { wasOpen = true } else { wasOpen = false }
        state = .stopped
        queue.removeAll()
        return wasOpen ? id : nil
    }

    // MARK: Dropping

    /// `next` as it must read once `dropped`, just before it, is gone.
    static func absorb(_ dropped: SubscriptionNotification, into next: SubscriptionNotification) -> SubscriptionNotification {
        var next = next
        next.droppedBefore += 1 + dropped.droppedBefore
        next.recordsDroppedBefore += dropped.recordsDroppedBefore
        switch dropped.method {
        case EventsNotification.method:
            let counts = NotificationParams.recordCounts(dropped.params)
            next.recordsDroppedBefore += counts.records + counts.lost
        case MapNotification.method:
            if let merged = DeltaMerge.merge(dropped.params, into: next.params) { next.params = merged }
        default:
            break
        }
        return next
    }
}

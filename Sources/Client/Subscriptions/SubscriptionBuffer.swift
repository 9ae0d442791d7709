import BpfleetShared
import Foundation
import NIOCore

/// The notifications of one subscription between the connection's event
/// loop, which delivers them, and the one task that consumes them.
///
/// How it keeps its bound depends on what the notifications are:
///
/// - Map watch (`coalesce`): the node already coalesces for a reader that
///   does not keep up, and only the newest state matters, so this holds
///   `limit` notifications; past that the oldest goes, and the one after it
///   says so (`droppedBefore`). A delta is merged into the next instead, so
///   the map can still be rebuilt.
/// - Events (`holdReader`): every record matters, so once `limit`
///   notifications wait, the connection stops reading (see
///   `SubscriptionTable.holdReader`) and the kernel's socket buffer, then
///   the node's bounded queue, take up the slack; what the node then drops
///   it counts in `lost`. When the connection must read on anyway (a call's
///   answer is awaited, another subscription's consumer waits), the queue
///   grows up to `byteLimit` bytes of params, and past that the oldest goes,
///   counted in `droppedBefore` and `recordsDroppedBefore` of the next.
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

    /// What the buffer does when its consumer falls behind.
    enum Flow: Sendable {
        /// Drop (or merge) the oldest past `limit`: map watches.
        case coalesce
        /// Hold the connection's reader while `limit` wait, and drop the
        /// oldest only past `byteLimit` bytes of params: events.
        case holdReader(byteLimit: Int)
    }

    private let lock = NSLock()
    private let limit: Int
    private let flow: Flow
    private var queue = CircularBuffer<SubscriptionNotification>()
    /// The params bytes in `queue`.
    private var queuedBytes = 0
    private var state = State.open
    private var waiter: CheckedContinuation<SubscriptionNotification?, any Error>?
    /// The id, once the node has answered with it.
    private var id: Int?
    /// Called once, outside the lock, when the consumer stops while the
    /// node still holds the subscription: tells the node to cancel it.
    private let onConsumerStop: @Sendable (Int) -> Void
    /// Called, outside the lock, whenever what `holdsReader` or
    /// `consumerWaits` would say may have changed so that the connection
    /// may read again: the consumer took the queue below `limit`, started
    /// waiting, or stopped.
    private let onFlowChange: @Sendable () -> Void

    init(limit: Int, flow: Flow = .coalesce,
         onFlowChange: @escaping @Sendable () -> Void = {},
         onConsumerStop: @escaping @Sendable (Int) -> Void) {
        precondition(limit >= 1, "a subscription buffer holds at least one notification")
        self.limit = limit
        self.flow = flow
        self.onFlowChange = onFlowChange
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
        queuedBytes += notification.params.readableBytes
        switch flow {
        case .coalesce:
            if queue.count > limit { dropOldestLocked() }
        case .holdReader(let byteLimit):
            while queuedBytes > byteLimit && queue.count > 1 { dropOldestLocked() }
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
                let countBefore = queue.count
                if let ready = takeLocked() {
                    // The reader waits only while `limit` are queued: it
                    // may go on once the queue drops below.
                    let madeRoom = countBefore == limit && queue.count < limit
                    lock.unlock()
                    continuation.resume(with: ready)
                    if madeRoom { onFlowChange() }
                    return
                }
                if Task.isCancelled {
                    let stopped = stopLocked()
                    lock.unlock()
                    continuation.resume(returning: nil)
                    onFlowChange()
                    if let stopped { onConsumerStop(stopped) }
                    return
                }
                precondition(waiter == nil, "a subscription has one consumer")
                waiter = continuation
                lock.unlock()
                // A reader held for another subscription must not keep
                // this consumer waiting.
                onFlowChange()
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
        onFlowChange()
        return id
    }

    var isOpen: Bool {
        lock.lock()
        defer { lock.unlock() }
        if case .open = state { return true }
        return false
    }

    // MARK: The connection's reader

    /// Whether the connection should stop reading for this consumer: an
    /// events subscription with `limit` notifications waiting.
    var holdsReader: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard case .holdReader = flow, case .open = state else { return false }
        return queue.count >= limit
    }

    /// Whether the consumer waits for a notification (its queue is empty).
    var consumerWaits: Bool {
        lock.lock()
        defer { lock.unlock() }
        return waiter != nil
    }

    // MARK: Under the lock

    /// The next thing to hand the consumer, or nil to wait.
    private func takeLocked() -> Result<SubscriptionNotification?, any Error>? {
        if !queue.isEmpty {
            let first = queue.removeFirst()
            queuedBytes -= first.params.readableBytes
            return .success(first)
        }
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
        queuedBytes = 0
        return wasOpen ? id : nil
    }

    private func dropOldestLocked() {
        let oldest = queue.removeFirst()
        let next = queue.removeFirst()
        let merged = Self.absorb(oldest, into: next)
        queue.prepend(merged)
        queuedBytes += merged.params.readableBytes - oldest.params.readableBytes - next.params.readableBytes
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

import NIOConcurrencyHelpers
import NIOCore

/// The records one event subscription has read from the kernel and not yet
/// sent. Bounded: when the subscriber reads slower than the program writes,
/// the newest records beyond `capacity` are dropped and counted, and the
/// count goes out as `lost` with the next notification.
final class EventQueue: Sendable {
    private struct State {
        var records: [ByteBuffer] = []
        var lost: UInt64 = 0
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = NIOLockedValueBox(State())
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds records (JSON texts) and losses the kernel reported.
    func push(_ records: [ByteBuffer], lost: UInt64) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            let room = max(0, capacity - state.records.count)
            state.records.append(contentsOf: records.prefix(room))
            state.lost += lost + UInt64(max(0, records.count - room))
            guard !state.records.isEmpty || state.lost > 0 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Up to `limit` records and the losses since the last take; waits while
    /// there are none; nil once closed.
    func take(limit: Int) async -> (records: [ByteBuffer], lost: UInt64)? {
        while true {
            let taken = state.withLockedValue { state -> (records: [ByteBuffer], lost: UInt64)?? in
                if !state.records.isEmpty || state.lost > 0 {
                    let records = Array(state.records.prefix(limit))
                    state.records.removeFirst(records.count)
                    defer { state.lost = 0 }
                    return .some((records, state.lost))
                }
                return state.closed ? .some(nil) : nil
            }
            if let taken { return taken }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLockedValue { state -> Bool in
                        if !state.records.isEmpty || state.lost > 0 || state.closed { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                close()
            }
        }
    }

    func close() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}

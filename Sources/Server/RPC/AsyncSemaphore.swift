import NIOConcurrencyHelpers
import NIOCore

/// A counting semaphore for tasks: with one permit, it keeps one reply's
/// bytes together. Waiters queue in a ring buffer, so a wait and a signal
/// each cost O(1) however many wait.
final class AsyncSemaphore: Sendable {
    private struct State {
        var permits: Int
        var waiters = CircularBuffer<CheckedContinuation<Void, Never>>()
    }

    private let state: NIOLockedValueBox<State>

    init(permits: Int) {
        state = NIOLockedValueBox(State(permits: permits))
    }

    func wait() async {
        let acquired = state.withLockedValue { state -> Bool in
            if state.permits > 0 {
                state.permits -= 1
                return true
            }
            return false
        }
        if acquired { return }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLockedValue { state -> Bool in
                // A permit may have come back between the two locks.
                if state.permits > 0 {
                    state.permits -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func signal() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard let first = state.waiters.popFirst() else {
                state.permits += 1
                return nil
            }
            return first
        }
        waiter?.resume()
    }
}

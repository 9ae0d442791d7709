import BpfleetShared

/// Runs `operation`, giving up after `limit` with `ClientError.timedOut`
/// naming the node. The operation is cancelled when the time is up, so it
/// must honour cancellation (`NodeConnection` calls do).
public func withTimeout<Value: Sendable>(
    _ limit: Duration,
    waitingFor address: NodeAddress,
    _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: TimeoutRace<Value>.self) { group in
        group.addTask { .finished(try await operation()) }
        group.addTask {
            try await Task.sleep(for: limit)
            return .expired
        }
        defer { group.cancelAll() }
        switch try await group.next() {
        case .finished(let value): return value
        case .expired: throw ClientError.timedOut(address, after: limit)
        case nil: throw CancellationError()
        }
    }
}

/// Which finished first: the operation or the clock.
private enum TimeoutRace<Value: Sendable>: Sendable {
    case finished(Value)
    case expired
}

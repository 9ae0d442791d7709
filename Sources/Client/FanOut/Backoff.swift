/// How long to wait before connecting again: 200 ms, doubling with each
/// retry, at most 5 s; each wait drawn at random from the upper half of
/// that, so that clients that failed together do not all come back
/// together.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(200), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The longest wait before retry `retry` (1 for the first):
    /// `initial` × 2^(retry-1), at most `maximum`.
    public func ceiling(beforeRetry retry: Int) -> Duration {
        var ceiling = initial
        for _ in 1..<max(1, retry) where ceiling < maximum {
            ceiling *= 2
        }
        return min(ceiling, maximum)
    }

    /// The wait before retry `retry`: between half the ceiling and the ceiling.
    public func delay(beforeRetry retry: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(beforeRetry: retry, using: &generator)
    }

    public func delay<Generator: RandomNumberGenerator>(beforeRetry retry: Int, using generator: inout Generator) -> Duration {
        let ceiling = ceiling(beforeRetry: retry).nanoseconds
        return .nanoseconds(Int64.random(in: ceiling / 2...ceiling, using: &generator))
    }
}

extension Duration {
    /// Whole nanoseconds (a backoff's precision).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

import BpfleetShared
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The reads of one map on one schedule, shared by every watch of that map
/// at that interval: at each tick it reads the map once, if any watch is
/// waiting, and encodes each distinct notification body once (per mode,
/// format and, for deltas, the reading it differs from). Fifty watchers of
/// a map cost one walk of it per interval, not fifty.
actor MapTicker {
    struct Delivery: Sendable {
        let reading: MapReading
        /// What follows `"seq":N` in the notification (see `MapReading.body`).
        let body: ByteBuffer
    }

    /// What a waiting watch needs encoded. Watches that want the same get
    /// the same bytes.
    /// A watch's stacks: the map's values as they are, or symbolized
    /// (through the stack trace map named, or the probe's only one).
    enum Stacks: Hashable, Sendable {
        case raw
        case symbolized(stackMap: String?)
    }

    private struct Wish: Hashable {
        var mode: WatchMode
        var format: ValueFormat
        var stacks: Stacks
        /// The tick of the reading a delta is taken against.
        var previousTick: Int?
    }

    private struct Waiter {
        var wish: Wish
        var previous: MapReading?
        var continuation: CheckedContinuation<Delivery, any Error>
    }

    nonisolated let key: MapTickerBook.Key
    nonisolated let interval: Duration
    nonisolated let start: ContinuousClock.Instant
    private let probe: LoadedProbe
    private let map: ProbeMap
    private let pool: NIOThreadPool
    private var waiters: [Int: Waiter] = [:]
    private var nextToken = 0

    init(key: MapTickerBook.Key, probe: LoadedProbe, map: ProbeMap, interval: Duration, pool: NIOThreadPool) {
        self.key = key
        self.probe = probe
        self.map = map
        self.interval = interval
        self.pool = pool
        self.start = .now
    }

    /// Whole intervals since the schedule began.
    nonisolated func currentTick() -> Int {
        Int((ContinuousClock.now - start) / interval)
    }

    /// The first reading taken after this call, encoded as asked: the whole
    /// map, or for a delta what changed since `previous` (everything when
    /// nil). A caller that comes back late gets the next tick's reading,
    /// never a queued older one.
    func next(mode: WatchMode, format: ValueFormat, stacks: Stacks = .raw, previous: MapReading?) async throws -> Delivery {
        let token = nextToken
        nextToken += 1
        let wish = Wish(mode: mode, format: format, stacks: stacks, previousTick: mode == .delta ? previous?.tick : nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                waiters[token] = Waiter(wish: wish, previous: mode == .delta ? previous : nil, continuation: continuation)
            }
        } onCancel: {
            Task { await self.drop(token) }
        }
    }

    private func drop(_ token: Int) {
        waiters.removeValue(forKey: token)?.continuation.resume(throwing: CancellationError())
    }

    /// Ticks until cancelled (when the map's last watch leaves).
    func run() async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            // A read that took longer than the interval skips the ticks it
            // overran: each watch sees that as a gap in its seq.
            let tick = currentTick() + 1
            do { try await clock.sleep(until: start + interval * tick) } catch { break }
            guard !waiters.isEmpty else { continue }
            let batch = waiters
            waiters = [:]
            var wishes: [Wish: MapReading?] = [:]
            for waiter in batch.values { wishes[waiter.wish] = waiter.previous }
            let asked = Array(wishes)
            let io = map.io
            let codec = map.codec
            let map = self.map
            let probe = self.probe
            do {
                let (reading, bodies) = try await pool.runIfActive { () throws -> (MapReading, [Wish: ByteBuffer]) in
                    let reading = try MapReading.read(io, tick: tick)
                    var bodies: [Wish: ByteBuffer] = [:]
                    for (wish, previous) in asked {
                        // Checked when the watch began; a stack map gone since leaves the values raw.
                        var rendering: StackRendering?
                        if case .symbolized(let stackMap) = wish.stacks {
                            rendering = try? StackRendering.of(map, in: probe, stackMap: stackMap)
                        }
                        bodies[wish] = reading.body(mode: wish.mode, format: wish.format, codec: codec, stacks: rendering, previous: previous)
                    }
                    return (reading, bodies)
                }
                for waiter in batch.values {
                    // `asked` holds every waiter's wish, so each has its body.
                    guard let body = bodies[waiter.wish] else {
                        waiter.continuation.resume(throwing: ResponseError(.internalError, "map.watch: no body was made for this watch"))
                        continue
                    }
                    waiter.continuation.resume(returning: Delivery(reading: reading, body: body))
                }
            } catch {
                for waiter in batch.values { waiter.continuation.resume(throwing: error) }
            }
        }
        let left = waiters
        waiters = [:]
        for waiter in left.values { waiter.continuation.resume(throwing: CancellationError()) }
    }
}

/// The node's map tickers, one per map and interval while any watch uses it.
final class MapTickerBook: Sendable {
    struct Key: Hashable, Sendable {
        var probe: ObjectIdentifier
        var map: String
        var interval: Duration
    }

    private struct Entry {
        var ticker: MapTicker
        var task: Task<Void, Never>
        var watches: Int
    }

    private let entries = NIOLockedValueBox([Key: Entry]())

    /// The ticker of `map` at `interval`, started if this is its first watch.
    func join(probe: LoadedProbe, map: ProbeMap, interval: Duration, pool: NIOThreadPool) -> MapTicker {
        let key = Key(probe: ObjectIdentifier(probe), map: map.name, interval: interval)
        return entries.withLockedValue { entries in
            if var entry = entries[key] {
                entry.watches += 1
                entries[key] = entry
                return entry.ticker
            }
            let ticker = MapTicker(key: key, probe: probe, map: map, interval: interval, pool: pool)
            entries[key] = Entry(ticker: ticker, task: Task { await ticker.run() }, watches: 1)
            return ticker
        }
    }

    /// A watch stopped using `ticker`; the last one stops it and waits until
    /// it has let go of the map.
    func leave(_ ticker: MapTicker) async {
        let stopped = entries.withLockedValue { entries -> Task<Void, Never>? in
            guard var entry = entries[ticker.key], entry.ticker === ticker else { return nil }
            entry.watches -= 1
            if entry.watches > 0 {
                entries[ticker.key] = entry
                return nil
            }
            entries[ticker.key] = nil
            return entry.task
        }
        stopped?.cancel()
        await stopped?.value
    }

    /// Tickers running now.
    var count: Int { entries.withLockedValue { $0.count } }
}

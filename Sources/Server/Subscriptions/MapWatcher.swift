import BpfleetShared
import NIOCore
import NIOPosix

/// One `map.watch` subscription. The map's `MapTicker` reads it once per
/// interval for every watch at that interval; this asks for the next
/// reading only after its last notification is written, so a reader slower
/// than the interval gets fewer, fresher snapshots (a gap in `seq`), never
/// a growing queue.
struct MapWatcher: Sendable {
    let id: Int
    let probe: LoadedProbe
    let map: ProbeMap
    let interval: Duration
    let mode: WatchMode
    let format: ValueFormat
    /// Whether the notifications carry stacks as frames.
    let stacks: MapTicker.Stacks
    let pool: NIOThreadPool
    let tickers: MapTickerBook
    let sink: any ReplySink

    func run() async throws {
        let ticker = tickers.join(probe: probe, map: map, interval: interval, pool: pool)
        do {
            try await follow(ticker)
        } catch {
            await tickers.leave(ticker)
            throw error
        }
        await tickers.leave(ticker)
    }

    private func follow(_ ticker: MapTicker) async throws {
        // seq counts the ticker's intervals since this watch began.
        let joined = ticker.currentTick()
        var seq = 0
        var previous: MapReading?
        while !Task.isCancelled {
            let delivery = try await ticker.next(mode: mode, format: format, stacks: stacks, previous: previous)
            try Task.checkCancellation()
            seq = max(delivery.reading.tick - joined, seq + 1)
            // The body goes out as the ticker encoded it, shared by every
            // watcher it went to: a stalled watch holds a reference, not a copy.
            try await sink.write([head(seq: seq), delivery.body])
            if mode == .delta { previous = delivery.reading }
        }
    }

    /// The notification up to its seq; the reading's body follows.
    private func head(seq: Int) -> ByteBuffer {
        var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: 96))
        out.raw("{\"jsonrpc\":\"2.0\",\"method\":\"subscription.map\",\"params\":{\"subscription\":")
        out.int(Int64(id))
        out.raw(",\"seq\":")
        out.int(Int64(seq))
        return out.buffer
    }
}

import BpfleetShared
import Foundation
import NIOCore
import NIOPosix

/// One `map.watch` subscription: reads the map every interval and sends a
/// `subscription.map` notification. It takes the next reading only after
/// the last notification is written, so a reader slower than the interval
/// gets fewer, fresher snapshots (a gap in `seq`), never a growing queue.
struct MapWatcher: Sendable {
    let id: Int
    let probe: LoadedProbe
    let map: ProbeMap
    let interval: Duration
    let mode: WatchMode
    let format: ValueFormat
    let pool: NIOThreadPool
    let sink: any ReplySink

    /// Raw entries of one reading, keyed by key bytes.
    private typealias Reading = [Data: Data]

    func run() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        var tick = 0
        var previous: Reading?
        while !Task.isCancelled {
            tick += 1
            try await clock.sleep(until: start + interval * tick)
            let takenAt = Date()
            let io = map.io
            let reading = try await pool.runIfActive { try Self.read(io) }
            try Task.checkCancellation()
            let notification = encode(seq: tick, takenAt: takenAt, reading: reading, previous: mode == .delta ? previous : nil)
            try await sink.write(notification)
            if mode == .delta { previous = reading }
            // Intervals that passed while this one was written are skipped.
            let elapsed = clock.now - start
            tick = max(tick, Int(elapsed / interval))
        }
        withExtendedLifetime(probe) {}
    }

    private static func read(_ io: MapIO) throws -> Reading {
        let cursor = MapCursor(map: io)
        var reading = Reading()
        while true {
            let count = try cursor.next()
            if count == 0 { break }
            for index in 0..<count {
                let key = Data(UnsafeRawBufferPointer(rebasing: cursor.keys[(index * io.keySize)..<((index + 1) * io.keySize)]))
                let value = Data(UnsafeRawBufferPointer(rebasing: cursor.values[(index * io.valueBufferSize)..<((index + 1) * io.valueBufferSize)]))
                reading[key] = value
            }
        }
        return reading
    }

    private func encode(seq: Int, takenAt: Date, reading: Reading, previous: Reading?) -> ByteBuffer {
        let codec = map.codec
        var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: 64 + reading.count * 40))
        out.raw("{\"jsonrpc\":\"2.0\",\"method\":\"subscription.map\",\"params\":{\"subscription\":")
        out.int(Int64(id))
        out.raw(",\"seq\":")
        out.int(Int64(seq))
        out.raw(",\"takenAt\":")
        out.string(WireDate.string(takenAt))
        func entries(_ pairs: some Sequence<(key: Data, value: Data)>) {
            var first = true
            for (key, value) in pairs {
                if !first { out.byte(UInt8(ascii: ",")) }
                first = false
                out.raw("{\"key\":")
                key.withUnsafeBytes { codec.writeKey($0, format: format, to: &out) }
                out.raw(",\"value\":")
                value.withUnsafeBytes { codec.writeValue($0, format: format, to: &out) }
                out.byte(UInt8(ascii: "}"))
            }
        }
        let ordered = reading.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        switch mode {
        case .full:
            out.raw(",\"entries\":[")
            entries(ordered)
            out.raw("]")
        case .delta:
            // The first notification sets every entry.
            out.raw(",\"set\":[")
            entries(ordered.lazy.filter { previous?[$0.key] != $0.value })
            out.raw("],\"removed\":[")
            var first = true
            for key in (previous ?? [:]).keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) where reading[key] == nil {
                if !first { out.byte(UInt8(ascii: ",")) }
                first = false
                key.withUnsafeBytes { codec.writeKey($0, format: format, to: &out) }
            }
            out.raw("]")
        }
        out.raw("}}\n")
        return out.buffer
    }
}

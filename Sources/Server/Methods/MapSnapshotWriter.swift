import BpfleetShared
import Foundation
import NIOCore
import NIOPosix

/// Streams `map.snapshot`'s result: batch lookups and JSON encoding on the
/// thread pool, each batch written before a later one is encoded, so memory
/// stays at two batches however large the map. The kernel reads batch n+1
/// while batch n is encoded and sent.
struct MapSnapshotWriter: Sendable {
    let probe: LoadedProbe
    let map: ProbeMap
    let format: ValueFormat
    let limit: Int?
    let pool: NIOThreadPool
    /// With `symbolize`: how stacks are written.
    var stacks: StackRendering? = nil

    /// One batch as the kernel returned it, copied out of the cursor so the
    /// cursor can fetch the next one meanwhile.
    private struct RawBatch: Sendable {
        var keys: [UInt8]
        var values: [UInt8]
        var count: Int
    }

    func write(to sink: any ReplySink) async throws {
        let takenAt = Date()
        let cursor = MapCursor(map: map.io)
        let pool = self.pool
        let limit = self.limit ?? Int.max
        let read: @Sendable () async throws -> RawBatch? = {
            try await pool.runIfActive {
                let count = try kernelCall { () throws(KernelError) in try cursor.next() }
                guard count > 0 else { return nil }
                return RawBatch(
                    keys: Array(UnsafeRawBufferPointer(rebasing: cursor.keys[..<(count * cursor.map.keySize)])),
                    values: Array(UnsafeRawBufferPointer(rebasing: cursor.values[..<(count * cursor.map.valueBufferSize)])),
                    count: count)
            }
        }

        var head = ByteBuffer()
        head.writeStaticString("{\"entries\":[")
        try await sink.write(head)

        var emitted = 0
        var truncated = false
        var pending: Task<RawBatch?, any Error>? = limit > 0 ? Task { try await read() } : nil
        while let reading = pending, let batch = try await reading.value {
            let take = min(batch.count, limit - emitted)
            let wantMore = take == batch.count && emitted + take < limit
            pending = wantMore ? Task { try await read() } : nil
            let bytes = try await encode(batch, take: take, afterFirst: emitted > 0)
            try await sink.write(bytes)
            emitted += take
            if take < batch.count {
                truncated = true
                break
            }
        }
        if emitted == limit, !truncated, !cursor.finished {
            truncated = try await pool.runIfActive { try cursor.next() > 0 }
        }

        var out = JSONWriter(buffer: ByteBuffer())
        out.raw("],\"count\":")
        out.uint(UInt64(emitted))
        out.raw(",\"truncated\":")
        out.bool(truncated)
        out.raw(",\"takenAt\":")
        out.string(WireDate.string(takenAt))
        out.raw("}")
        try await sink.write(out.buffer)
        withExtendedLifetime(probe) {}
    }

    private func encode(_ batch: RawBatch, take: Int, afterFirst: Bool) async throws -> ByteBuffer {
        let codec = map.codec
        let format = self.format
        let keySize = map.io.keySize
        let valueSize = map.io.valueBufferSize
        let stacks = self.stacks
        return try await pool.runIfActive {
            var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: take * 40))
            batch.keys.withUnsafeBytes { keys in
                batch.values.withUnsafeBytes { values in
                    for index in 0..<take {
                        if index > 0 || afterFirst { out.byte(UInt8(ascii: ",")) }
                        out.raw("{\"key\":")
                        codec.writeKey(UnsafeRawBufferPointer(rebasing: keys[(index * keySize)..<((index + 1) * keySize)]), format: format, to: &out)
                        out.raw(",\"value\":")
                        let key = UnsafeRawBufferPointer(rebasing: keys[(index * keySize)..<((index + 1) * keySize)])
                        let value = UnsafeRawBufferPointer(rebasing: values[(index * valueSize)..<((index + 1) * valueSize)])
                        codec.writeValue(value, key: key, format: format, stacks: stacks, to: &out)
                        out.byte(UInt8(ascii: "}"))
                    }
                }
            }
            return out.buffer
        }
    }
}

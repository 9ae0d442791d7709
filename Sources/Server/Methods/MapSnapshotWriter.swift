import BpfleetShared
import Foundation
import NIOCore
import NIOPosix

/// Streams `map.snapshot`'s result: batch lookups on the thread pool, each
/// batch encoded straight to JSON bytes and written before the next is
/// read, so memory stays at one batch however large the map.
struct MapSnapshotWriter: Sendable {
    let probe: LoadedProbe
    let map: ProbeMap
    let format: ValueFormat
    let limit: Int?
    let pool: NIOThreadPool

    private struct Batch: Sendable {
        var bytes: ByteBuffer
        /// Entries the kernel returned, and how many of them were written.
        var read: Int
        var written: Int
    }

    func write(to sink: any ReplySink) async throws {
        let takenAt = Date()
        let cursor = MapCursor(map: map.io)
        let codec = map.codec
        let format = self.format
        let limit = self.limit ?? Int.max
        var emitted = 0
        var truncated = false

        var head = ByteBuffer()
        head.writeStaticString("{\"entries\":[")
        try await sink.write(head)
        while emitted < limit {
            let alreadyEmitted = emitted
            let batch = try await pool.runIfActive { () throws -> Batch? in
                let read = try cursor.next()
                guard read > 0 else { return nil }
                let take = min(read, limit - alreadyEmitted)
                var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: take * 48))
                for index in 0..<take {
                    if index > 0 || alreadyEmitted > 0 { out.byte(UInt8(ascii: ",")) }
                    out.raw("{\"key\":")
                    codec.writeKey(cursor.key(index), format: format, to: &out)
                    out.raw(",\"value\":")
                    codec.writeValue(cursor.value(index), format: format, to: &out)
                    out.byte(UInt8(ascii: "}"))
                }
                return Batch(bytes: out.buffer, read: read, written: take)
            }
            guard let batch else { break }
            emitted += batch.written
            try await sink.write(batch.bytes)
            if batch.read > batch.written {
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
        out.string(takenAt.formatted(.iso8601))
        out.raw("}")
        try await sink.write(out.buffer)
        withExtendedLifetime(probe) {}
    }
}

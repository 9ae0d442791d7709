import BpfleetShared
import Foundation
import NIOCore
import NIOPosix

/// One `events.subscribe` subscription: a reader drains the ring buffer or
/// perf buffer on the thread pool into a bounded queue, and a sender turns
/// what is queued into `subscription.events` notifications as fast as the
/// subscriber reads them.
struct EventStreamer: Sendable {
    let id: Int
    let probe: LoadedProbe
    let reader: any EventStreamReader
    let recordType: BTFType?
    let pool: NIOThreadPool
    let sink: any ReplySink
    let queue: EventQueue
    /// Where delivered and lost records are counted (docs/metrics.md).
    var metrics: ServerMetrics? = nil
    /// Records in one notification at most.
    static let batchLimit = 4096

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await drain() }
            group.addTask { try await send() }
            // Either side ending (cancelled, or the connection gone) ends both.
            try await group.next()
            group.cancelAll()
            queue.close()
        }
        withExtendedLifetime(probe) {}
    }

    private func drain() async throws {
        let reader = self.reader
        let recordType = self.recordType
        while !Task.isCancelled {
            // A short timeout, so that cancelling is quick.
            let encoded: ([ByteBuffer], UInt64) = try await pool.runIfActive {
                let batch = try kernelCall { () throws(KernelError) in try reader.poll(timeoutMs: 100) }
                var records: [ByteBuffer] = []
                records.reserveCapacity(batch.count)
                for index in batch.indices {
                    records.append(batch.withRecord(at: index) { bytes in Self.encode(bytes, as: recordType) })
                }
                return (records, batch.lost)
            }
            if !encoded.0.isEmpty || encoded.1 > 0 { queue.push(encoded.0, lost: encoded.1) }
        }
    }

    private func send() async throws {
        var seq = 0
        while let (records, lost) = await queue.take(limit: Self.batchLimit) {
            seq += 1
            var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: 96 + records.reduce(0) { $0 + $1.readableBytes + 1 }))
            out.raw("{\"jsonrpc\":\"2.0\",\"method\":\"subscription.events\",\"params\":{\"subscription\":")
            out.int(Int64(id))
            out.raw(",\"seq\":")
            out.int(Int64(seq))
            out.raw(",\"records\":[")
            for (index, record) in records.enumerated() {
                if index > 0 { out.byte(UInt8(ascii: ",")) }
                out.bytes(record)
            }
            out.raw("],\"lost\":")
            out.uint(lost)
            out.raw("}}\n")
            try await sink.write(out.buffer)
            metrics?.eventsWritten(records.count, lost: lost)
        }
    }

    /// A record as typed JSON when its type is known and fits, hex otherwise.
    static func encode(_ bytes: UnsafeRawBufferPointer, as type: BTFType?) -> ByteBuffer {
        var out = JSONWriter(buffer: ByteBuffer())
        if let type, bytes.count >= type.size {
            // Perf samples may carry padding past the record.
            ValueCodec.write(type, UnsafeRawBufferPointer(rebasing: bytes[0..<type.size]), to: &out)
        } else {
            out.hexString(bytes)
        }
        return out.buffer
    }
}

import BpfleetShared
import CLibBPF
import Glibc

/// Reads the records BPF programs send through a ring buffer
/// (`RingBufferReader`) or a perf event array (`PerfBufferReader`), for
/// `events.subscribe`.
///
/// A reader is used from one thread at a time: the server runs `poll` on a
/// thread-pool thread and hands the batch back. A poll waits at most
/// `timeoutMs` for the first record and then takes what is already there,
/// up to `maxRecords` records or about `maxBytes` bytes (it may exceed it by
/// the last record, which it cannot leave half read), so memory per poll is
/// bounded whatever the producer does; records past the limit stay in the
/// kernel's buffer for the next poll (and, if that buffer fills, the kernel
/// drops new ones: the loss the BPF program or `lost` reports).
/// `epollFD` becomes readable when records arrive, for a caller that waits
/// itself and polls with timeout 0.
protocol EventStreamReader: AnyObject, Sendable {
    /// An epoll descriptor, owned by the reader, readable when records wait.
    var epollFD: Int32 { get }
    /// The map this reader reads (the reader's own descriptor for it).
    var mapFD: Int32 { get }
    func poll(timeoutMs: Int32, maxRecords: Int, maxBytes: Int) throws(KernelError) -> EventBatch
}

extension EventStreamReader {
    func poll(timeoutMs: Int32, maxRecords: Int = EventStreams.defaultMaxRecords) throws(KernelError) -> EventBatch {
        try poll(timeoutMs: timeoutMs, maxRecords: maxRecords, maxBytes: EventStreams.defaultMaxBytes)
    }
}

enum EventStreams {
    static let defaultMaxRecords = 4096
    static let defaultMaxBytes = 4 << 20
    /// Pages per CPU a perf event array reader maps unless told otherwise: 256 KiB with 4 KiB pages.
    static let defaultPerfPagesPerCPU = 64

    /// Map types whose records can be streamed.
    static func isEventMap(_ type: bpf_map_type) -> Bool {
        type == BPF_MAP_TYPE_RINGBUF || type == BPF_MAP_TYPE_PERF_EVENT_ARRAY
    }

    /// A reader for the ring buffer or perf event array `mapFD` refers to
    /// (the perf options are `PerfBufferReader`'s). Borrows `mapFD` only
    /// for the call: the reader keeps a duplicate.
    static func open(mapFD: Int32, perfPagesPerCPU: Int = defaultPerfPagesPerCPU,
                     perfWakeupEvents: Int = 1) throws(KernelError) -> any EventStreamReader {
        guard let info = MapInfo(fd: mapFD) else { throw .failed(operation: "map info", errno: currentErrno()) }
        switch info.type {
        case BPF_MAP_TYPE_RINGBUF: return try RingBufferReader(mapFD: mapFD)
        case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
            return try PerfBufferReader(mapFD: mapFD, pagesPerCPU: perfPagesPerCPU, wakeupEvents: perfWakeupEvents)
        default: throw notAnEventMap(info)
        }
    }

    static func notAnEventMap(_ info: MapInfo) -> KernelError {
        KernelError.invalidArgument(message:
                      "map '\(info.name)' is a \(mapTypeName(info.type)) map; events stream from a ringbuf or perf_event_array map",
                      data: ["field": "map", "mapType": .string(mapTypeName(info.type))])
    }

    /// A descriptor of the reader's own for the map: it stays valid however
    /// long the caller keeps the original (libbpf's perf buffer uses it
    /// again when freed, to clear the map's slots).
    static func duplicate(_ fd: Int32) throws(KernelError) -> OwnedDescriptor {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        guard copy >= 0 else { throw .failed(operation: "dup of the map descriptor", errno: currentErrno()) }
        return OwnedDescriptor(copy)
    }
}

/// What libbpf's callbacks reach through their context pointer: where the
/// current poll's records go, and when to stop. Owned by the reader, which
/// frees the libbpf object (the only caller of the callbacks) before it.
final class EventSinkState {
    /// Takes one record; false when the poll wants no more.
    var sink: ((UnsafeRawBufferPointer) -> Bool)?
    var delivered = 0
    var lost: UInt64 = 0
    /// The sink refused more: the current poll is over.
    var stopped = false

    func begin(_ sink: @escaping (UnsafeRawBufferPointer) -> Bool) {
        self.sink = sink
        delivered = 0
        lost = 0
        stopped = false
    }

    func end() {
        sink = nil
    }

    /// Delivers one record; false when the poll should stop (after this one).
    @inline(__always)
    func deliver(_ record: UnsafeRawBufferPointer) -> Bool {
        delivered += 1
        guard let sink, sink(record) else {
            stopped = true
            return false
        }
        return true
    }

    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ context: UnsafeMutableRawPointer?) -> EventSinkState {
        Unmanaged<EventSinkState>.fromOpaque(context!).takeUnretainedValue()
    }
}

extension EventStreamReader {
    /// Runs `consume` with `state` feeding records into a fresh batch until
    /// `maxRecords` records or `maxBytes` bytes.
    func collect(into state: EventSinkState, maxRecords: Int, maxBytes: Int,
                 _ consume: () throws(KernelError) -> Void) throws(KernelError) -> EventBatch {
        precondition(maxRecords > 0 && maxBytes > 0, "a poll takes at least one record")
        var batch = EventBatch()
        var result: Result<Void, KernelError> = .success(())
        withoutActuallyEscaping({ (record: UnsafeRawBufferPointer) -> Bool in
            batch.append(record)
            return batch.count < maxRecords && batch.byteCount < maxBytes
        }) { sink in
            state.begin(sink)
            defer { state.end() }
            do throws(KernelError) { try consume() } catch { result = .failure(error) }
        }
        try result.get()
        batch.lost = state.lost
        return batch
    }
}

import BpfleetShared
import CBPFSupport
import CLibBPF
import Glibc

/// Reads one `BPF_MAP_TYPE_PERF_EVENT_ARRAY` map through libbpf's perf
/// buffer (`struct perf_buffer *`): one perf ring of `pagesPerCPU` pages per
/// CPU, whose descriptors libbpf stores in the map's slots. Owns it and its
/// own duplicate of the map descriptor: deinit frees the perf buffer (which
/// clears the map's slots through that descriptor, closes the perf events
/// and unmaps their rings), then closes the duplicate.
///
/// The kernel counts what a full ring drops and reports it in the ring
/// (`PERF_RECORD_LOST`) when the next record fits; batches carry it in
/// `lost`. Records are in order per CPU; across CPUs they are not.
///
/// Not thread-safe: one poll at a time (see `EventStreamReader`).
final class PerfBufferReader: EventStreamReader, @unchecked Sendable {
    private let handle: OpaquePointer
    /// The reader's own descriptor of the map (closed after libbpf's
    /// buffer is freed, which uses it).
    private let map: OwnedDescriptor
    var mapFD: Int32 { map.fd }
    let pagesPerCPU: Int
    let wakeupEvents: Int
    /// Per-CPU rings (CPUs the map has slots for).
    let bufferCount: Int
    private let state = EventSinkState()
    /// The ring the next poll reads first: after a poll stopped at its
    /// limit, the one after where it stopped, so one busy CPU cannot starve
    /// the others.
    private var nextBuffer = 0

    /// - Parameters:
    ///   - mapFD: a perf event array; borrowed for the call only.
    ///   - pagesPerCPU: a power of two.
    ///   - wakeupEvents: samples per CPU that wake a waiting poll. 1 (what
    ///     libbpf's perf_buffer__new does) hands each record over at once
    ///     but interrupts the traced work for every one; N > 1 interrupts it
    ///     N times less, and the last samples of a quiet CPU wait for the
    ///     next poll (the next `timeoutMs` at the latest).
    init(mapFD: Int32, pagesPerCPU: Int = EventStreams.defaultPerfPagesPerCPU,
         wakeupEvents: Int = 1) throws(KernelError) {
        guard pagesPerCPU > 0, pagesPerCPU & (pagesPerCPU - 1) == 0 else {
            throw .invalidField("pages per CPU must be a power of two, not \(pagesPerCPU)", field: "pagesPerCPU")
        }
        guard wakeupEvents >= 1, wakeupEvents <= Int(UInt32.max) else {
            throw .invalidField("wakeup events must be at least 1, not \(wakeupEvents)", field: "wakeupEvents")
        }
        guard let info = MapInfo(fd: mapFD) else { throw .failed(operation: "map info", errno: currentErrno()) }
        guard info.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY else { throw EventStreams.notAnEventMap(info) }
        let map = try EventStreams.duplicate(mapFD)
        guard let handle = bpfleet_perf_buffer_new(map.fd, UInt(pagesPerCPU), UInt32(wakeupEvents), perfBufferEvent, state.context) else {
            let code = currentErrno()
            throw .failed(operation: "perf buffer setup (perf_buffer__new)", errno: code)
        }
        self.handle = handle
        self.map = map
        self.pagesPerCPU = pagesPerCPU
        self.wakeupEvents = wakeupEvents
        self.bufferCount = perf_buffer__buffer_cnt(handle)
    }

    deinit {
        perf_buffer__free(handle)
    }

    var epollFD: Int32 { perf_buffer__epoll_fd(handle) }

    /// Hands each record's bytes to `body`, valid only during the call (copy
    /// what you keep), until `maxRecords` records; waits up to `timeoutMs`
    /// (0: not at all, -1: forever) when none are there. Returns how many,
    /// and what the kernel reported lost. A record is what the program
    /// sent, possibly followed by up to 7 bytes of the kernel's padding.
    @discardableResult
    func poll(timeoutMs: Int32, maxRecords: Int,
              _ body: (UnsafeRawBufferPointer) -> Void) throws(KernelError) -> (records: Int, lost: UInt64) {
        precondition(maxRecords > 0, "a poll takes at least one record")
        var result: Result<Void, KernelError> = .success(())
        var taken = 0
        withoutActuallyEscaping({ (record: UnsafeRawBufferPointer) -> Bool in
            body(record)
            taken += 1
            return taken < maxRecords
        }) { sink in
            state.begin(sink)
            defer { state.end() }
            do throws(KernelError) { try consume(timeoutMs: timeoutMs) } catch { result = .failure(error) }
        }
        try result.get()
        return (taken, state.lost)
    }

    /// Copies out up to `maxRecords` records or about `maxBytes` bytes;
    /// waits up to `timeoutMs` when none are there.
    func poll(timeoutMs: Int32, maxRecords: Int, maxBytes: Int) throws(KernelError) -> EventBatch {
        try collect(into: state, maxRecords: maxRecords, maxBytes: maxBytes) { () throws(KernelError) in
            try consume(timeoutMs: timeoutMs)
        }
    }

    private func consume(timeoutMs: Int32) throws(KernelError) {
        try consumeRings()
        guard state.delivered == 0, state.lost == 0, timeoutMs != 0 else { return }
        // perf rings signal readiness per wakeup, not while data waits: this
        // is why every poll reads the rings first and only then waits.
        let ready = bpfleet_epoll_wait_one(epollFD, timeoutMs)
        if ready < 0 {
            if ready == -EINTR { return }
            throw .failed(operation: "perf buffer poll (epoll_wait)", errno: -ready)
        }
        if ready > 0 { try consumeRings() }
    }

    /// Reads the rings round robin until the sink stops it.
    private func consumeRings() throws(KernelError) {
        guard bufferCount > 0 else { return }
        let first = nextBuffer
        for step in 0..<bufferCount {
            let index = (first + step) % bufferCount
            let rc = perf_buffer__consume_buffer(handle, index)
            // -ENOENT: no ring for that CPU (offline, or beyond the map's slots).
            if rc < 0, rc != -ENOENT {
                throw .failed(operation: "perf buffer read", errno: -rc)
            }
            if state.stopped {
                nextBuffer = (index + 1) % bufferCount
                return
            }
        }
        nextBuffer = (first + 1) % bufferCount
    }
}

private let perfContinue = LIBBPF_PERF_EVENT_CONT.rawValue
private let perfDone = LIBBPF_PERF_EVENT_DONE.rawValue

/// libbpf's `perf_buffer_event_fn`, for every record of a perf ring:
/// returning DONE consumes this record and ends this ring's pass.
private func perfBufferEvent(_ context: UnsafeMutableRawPointer?, _ cpu: Int32, _ header: OpaquePointer?) -> Int32 {
    let state = EventSinkState.from(context)
    var data: UnsafeRawPointer?
    var size: UInt32 = 0
    var lost: UInt64 = 0
    switch bpfleet_perf_record_decode(header, &data, &size, &lost) {
    case BPFLEET_PERF_RECORD_SAMPLE:
        return state.deliver(UnsafeRawBufferPointer(start: data, count: Int(size))) ? perfContinue : perfDone
    case BPFLEET_PERF_RECORD_LOST:
        state.lost &+= lost
        return perfContinue
    default:
        return perfContinue
    }
}

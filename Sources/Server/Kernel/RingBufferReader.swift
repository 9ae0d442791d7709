import BpfleetShared
import CLibBPF
import Glibc

/// Reads one `BPF_MAP_TYPE_RINGBUF` map through libbpf's ring buffer
/// consumer (`struct ring_buffer *`). Owns it and its own duplicate of the
/// map descriptor: deinit frees the consumer (unmapping the ring and
/// closing its epoll descriptor), then closes the duplicate.
///
/// The ring buffer does not count what it drops: a full ring makes the BPF
/// program's `bpf_ringbuf_reserve` fail, and only the program can count
/// that (see programs/event_flood.bpf.c), so batches' `lost` is 0 here.
/// Records come in the order they were reserved, across all CPUs.
///
/// Not thread-safe: one poll at a time (see `EventStreamReader`).
final class RingBufferReader: EventStreamReader, @unchecked Sendable {
    private let handle: OpaquePointer
    /// The reader's own descriptor of the map (closed after libbpf's
    /// buffer is freed, which uses it).
    private let map: OwnedDescriptor
    var mapFD: Int32 { map.fd }
    /// The ring's size in bytes (the map's max_entries).
    let capacity: Int
    private let state = EventSinkState()

    /// - Parameter mapFD: a ring buffer map; borrowed for the call only.
    init(mapFD: Int32) throws(KernelError) {
        guard let info = MapInfo(fd: mapFD) else { throw .failed(operation: "map info", errno: currentErrno()) }
        guard info.type == BPF_MAP_TYPE_RINGBUF else { throw EventStreams.notAnEventMap(info) }
        let map = try EventStreams.duplicate(mapFD)
        guard let handle = ring_buffer__new(map.fd, ringBufferSample, state.context, nil) else {
            let code = currentErrno()
            throw .failed(operation: "ring buffer setup (ring_buffer__new)", errno: code)
        }
        self.handle = handle
        self.map = map
        self.capacity = Int(info.maxEntries)
    }

    deinit {
        ring_buffer__free(handle)
    }

    var epollFD: Int32 { ring_buffer__epoll_fd(handle) }

    /// Hands each record's bytes to `body`, valid only during the call (copy
    /// what you keep), until `maxRecords` records; waits up to `timeoutMs`
    /// (0: not at all, -1: forever) when none are there. Returns how many.
    @discardableResult
    func poll(timeoutMs: Int32, maxRecords: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws(KernelError) -> Int {
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
        return taken
    }

    /// Copies out up to `maxRecords` records or about `maxBytes` bytes;
    /// waits up to `timeoutMs` when none are there.
    func poll(timeoutMs: Int32, maxRecords: Int, maxBytes: Int) throws(KernelError) -> EventBatch {
        try collect(into: state, maxRecords: maxRecords, maxBytes: maxBytes) { () throws(KernelError) in
            try consume(timeoutMs: timeoutMs)
        }
    }

    /// What is there first, without waiting; then, if nothing was, one
    /// wait on the ring's epoll descriptor and what came.
    private func consume(timeoutMs: Int32) throws(KernelError) {
        var rc = ring_buffer__consume(handle)
        if rc == 0, state.delivered == 0, timeoutMs != 0 {
            rc = ring_buffer__poll(handle, timeoutMs)
        }
        // The callback's refusal comes back as an error: it is our stop.
        if rc < 0, !state.stopped, rc != -EINTR {
            throw .failed(operation: "ring buffer poll", errno: -rc)
        }
    }
}

/// libbpf's `ring_buffer_sample_fn`: a negative return consumes this
/// record and stops the poll (libbpf 1.1 `ringbuf_process_ring`).
private func ringBufferSample(_ context: UnsafeMutableRawPointer?, _ data: UnsafeMutableRawPointer?, _ size: Int) -> Int32 {
    let state = EventSinkState.from(context)
    return state.deliver(UnsafeRawBufferPointer(start: data, count: size)) ? 0 : -ECANCELED
}

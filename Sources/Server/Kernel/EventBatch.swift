/// The records one poll of a ring buffer or perf event array read: each
/// record's bytes, copied out of the kernel's buffer (libbpf's memory is
/// valid only during its callback), stored back to back in one array so a
/// batch costs two allocations however many records it holds.
///
/// A value: a reader fills it on a thread-pool thread and hands it over.
struct EventBatch: Sendable, RandomAccessCollection {
    private(set) var bytes: [UInt8] = []
    /// `ends[i]`: where record `i` ends in `bytes` (it starts where `i - 1` ends).
    private(set) var ends: [Int] = []
    /// Records the kernel reported lost since the previous poll: perf event
    /// arrays report them (`PERF_RECORD_LOST`); ring buffers do not count
    /// their drops, so for them this is 0 and the BPF program counts failed
    /// `bpf_ringbuf_reserve` calls itself if it wants them known.
    var lost: UInt64 = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { ends.count }

    /// Record `position`'s bytes (shares the batch's storage).
    subscript(position: Int) -> ArraySlice<UInt8> {
        bytes[(position == 0 ? 0 : ends[position - 1])..<ends[position]]
    }

    /// Bytes of all records together.
    var byteCount: Int { bytes.count }

    /// Record `position`'s bytes for the duration of `body`, without a copy.
    func withRecord<R>(at position: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = position == 0 ? 0 : ends[position - 1]
        return try bytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[start..<ends[position]]))
        }
    }

    mutating func append(_ record: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: record)
        ends.append(bytes.count)
    }

    mutating func append(_ record: some Sequence<UInt8>) {
        bytes.append(contentsOf: record)
        ends.append(bytes.count)
    }

    mutating func removeAll(keepingCapacity: Bool = false) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
        ends.removeAll(keepingCapacity: keepingCapacity)
        lost = 0
    }
}

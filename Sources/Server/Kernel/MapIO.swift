import BpfleetShared
import CLibBPF
import Glibc

/// Reads and writes one map through its descriptor. Borrows the fd: the
/// probe that owns the map keeps it open for as long as this is in use.
struct MapIO: @unchecked Sendable {
    let fd: Int32
    let type: bpf_map_type
    let keySize: Int
    /// The kernel's value size for one entry (one CPU's share for per-CPU maps).
    let valueSize: Int
    let maxEntries: Int
    /// CPUs whose values a per-CPU map returns; 1 otherwise.
    let cpus: Int

    init(fd: Int32, info: MapInfo) {
        self.fd = fd
        self.type = info.type
        self.keySize = Int(info.keySize)
        self.valueSize = Int(info.valueSize)
        self.maxEntries = Int(info.maxEntries)
        self.cpus = Self.isPerCPU(info.type) ? Int(max(libbpf_num_possible_cpus(), 1)) : 1
    }

    static func isPerCPU(_ type: bpf_map_type) -> Bool {
        [BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_LRU_PERCPU_HASH,
         BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE].contains(type)
    }

    var isPerCPU: Bool { cpus > 1 || Self.isPerCPU(type) }

    /// Bytes per CPU in a per-CPU value buffer: the kernel rounds to 8.
    var valueStride: Int { isPerCPU ? (valueSize + 7) & ~7 : valueSize }
    /// Bytes of one entry's whole value as lookups return it.
    var valueBufferSize: Int { valueStride * cpus }

    /// Maps that hold entries one can look up (not ring buffers or event arrays).
    var holdsEntries: Bool {
        ![BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF, BPF_MAP_TYPE_PERF_EVENT_ARRAY].contains(type)
    }

    func lookup(_ key: [UInt8]) throws(KernelError) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: valueBufferSize)
        let rc = key.withUnsafeBytes { k in value.withUnsafeMutableBytes { v in bpf_map_lookup_elem(fd, k.baseAddress, v.baseAddress) } }
        if rc == 0 { return value }
        let code = currentErrno()
        if code == ENOENT { return nil }
        throw .failed(operation: "map lookup", errno: code)
    }

    func update(_ key: [UInt8], _ value: [UInt8], flags: UInt64) throws(KernelError) {
        let rc = key.withUnsafeBytes { k in value.withUnsafeBytes { v in bpf_map_update_elem(fd, k.baseAddress, v.baseAddress, flags) } }
        guard rc == 0 else {
            let code = currentErrno()
            if code == EEXIST { throw .entryExists(message: "the key exists (flags: noexist)") }
            if code == ENOENT { throw .entryMissing(message: "the key does not exist (flags: exist)") }
            if code == E2BIG { throw .limitExceeded(limit: "maxEntries", value: maxEntries, message: "the map is full (\(maxEntries) entries)") }
            throw .failed(operation: "map update", errno: code)
        }
    }

    func delete(_ key: [UInt8]) throws(KernelError) {
        let rc = key.withUnsafeBytes { bpf_map_delete_elem(fd, $0.baseAddress) }
        guard rc == 0 else {
            let code = currentErrno()
            if code == ENOENT { throw .entryMissing(message: "no entry with that key") }
            if code == EINVAL, [BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY].contains(type) {
                throw KernelError.invalidArgument(message: "entries of an array map cannot be deleted; update them instead")
            }
            throw .failed(operation: "map delete", errno: code)
        }
    }
}

/// Walks a map in batches: `BPF_MAP_LOOKUP_BATCH` where the map type has it,
/// `BPF_MAP_GET_NEXT_KEY` + lookup otherwise. Holds one batch of keys and
/// values at a time, so a million entries cost the memory of one batch.
final class MapCursor: @unchecked Sendable {
    let map: MapIO
    let batchCapacity: Int
    let keys: UnsafeMutableRawBufferPointer
    let values: UnsafeMutableRawBufferPointer
    private let token: UnsafeMutableRawBufferPointer
    private var started = false
    private(set) var finished = false
    private var useBatch = true

    init(map: MapIO, batchBytes: Int = 4 << 20) {
        self.map = map
        let entryBytes = max(map.keySize + map.valueBufferSize, 1)
        batchCapacity = max(64, min(16384, batchBytes / entryBytes))
        keys = .allocate(byteCount: max(batchCapacity * map.keySize, 1), alignment: 8)
        values = .allocate(byteCount: max(batchCapacity * map.valueBufferSize, 1), alignment: 8)
        // Hash maps use a bucket index as the batch token; arrays a key.
        token = .allocate(byteCount: max(map.keySize, 8), alignment: 8)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
        token.deallocate()
    }

    /// Reads the next batch into `keys`/`values`; returns how many entries.
    /// Zero means the walk is over.
    func next() throws(KernelError) -> Int {
        if finished { return 0 }
        if useBatch {
            if let count = try nextBatch() { return count }
            useBatch = false  // the map type has no batch ops: walk keys
            started = false
        }
        return try nextByKey()
    }

    private func nextBatch() throws(KernelError) -> Int? {
        var opts = bpf_map_batch_opts()
        opts.sz = MemoryLayout<bpf_map_batch_opts>.size
        var count = UInt32(batchCapacity)
        let rc = bpf_map_lookup_batch(map.fd, started ? token.baseAddress : nil, token.baseAddress,
                                      keys.baseAddress, values.baseAddress, &count, &opts)
        let code = rc == 0 ? 0 : currentErrno()
        if rc != 0, !started, [EINVAL, ENOTSUP, EOPNOTSUPP, 524 /* ENOTSUPP */].contains(code) { return nil }
        started = true
        if rc == 0 { return Int(count) }
        if code == ENOENT {
            finished = true
            return Int(count)
        }
        throw .failed(operation: "map lookup batch", errno: code)
    }

    private func nextByKey() throws(KernelError) -> Int {
        var filled = 0
        while filled < batchCapacity {
            let previous: UnsafeMutableRawPointer? = started ? token.baseAddress : nil
            let nextKey = keys.baseAddress! + filled * map.keySize
            if bpf_map_get_next_key(map.fd, previous, nextKey) != 0 {
                let code = currentErrno()
                if code == ENOENT {
                    finished = true
                    return filled
                }
                throw .failed(operation: "map get next key", errno: code)
            }
            started = true
            token.baseAddress!.copyMemory(from: nextKey, byteCount: map.keySize)
            let value = values.baseAddress! + filled * map.valueBufferSize
            if bpf_map_lookup_elem(map.fd, nextKey, value) != 0 {
                let code = currentErrno()
                if code == ENOENT { continue }  // deleted between the two calls
                throw .failed(operation: "map lookup", errno: code)
            }
            filled += 1
        }
        return filled
    }
}

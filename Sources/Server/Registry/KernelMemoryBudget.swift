import BpfleetShared
import Foundation

/// The kernel memory a probe's maps may take (`--max-probe-memory`),
/// checked before the object is loaded: an array of 2^31 entries would
/// otherwise have the kernel hand out 16 GiB to whoever may load.
///
/// Pure: the estimate is computed from what the ELF object declares (the
/// same numbers the kernel allocates from), never from the kernel. The
/// formula per map type is in docs/security.md, "Kernel memory of a probe".
public struct KernelMemoryBudget: Sendable {
    /// Bytes one probe's maps may take, each map alone and all together.
    public var limit: UInt64
    /// Per-CPU maps hold one value per possible CPU.
    public var possibleCPUs: Int
    public var pageSize: UInt64

    public init(limit: UInt64, possibleCPUs: Int, pageSize: UInt64 = 4096) {
        self.limit = limit
        self.possibleCPUs = max(possibleCPUs, 1)
        self.pageSize = max(pageSize, 1)
    }

    /// A map as an object declares it.
    public struct Map: Sendable, Hashable {
        public var name: String
        /// libbpf's name of the map type: `hash`, `percpu_array`, `ringbuf`, ...
        public var type: String
        public var keySize: UInt32
        public var valueSize: UInt32
        public var maxEntries: UInt32
        public var flags: UInt32
        /// `map_extra`: a bloom filter's number of hash functions (low 4 bits).
        public var extra: UInt64

        public init(name: String, type: String, keySize: UInt32, valueSize: UInt32, maxEntries: UInt32,
                    flags: UInt32 = 0, extra: UInt64 = 0) {
            self.name = name
            self.type = type
            self.keySize = keySize
            self.valueSize = valueSize
            self.maxEntries = maxEntries
            self.flags = flags
            self.extra = extra
        }
    }

    /// BPF_F_NO_PREALLOC: a hash map allocates each element when it is
    /// added; it can still grow to max_entries, so it counts as full.
    static let noPreallocate: UInt32 = 1 << 0
    /// BPF_F_MMAPABLE: an array's values are whole pages.
    static let mappable: UInt32 = 1 << 10

    /// `struct htab_elem` before its key: bucket links, LRU node, hash.
    static let hashElementHeader: UInt64 = 48
    /// `struct bucket`: list head and lock.
    static let hashBucket: UInt64 = 16
    /// A kernel pointer.
    static let pointer: UInt64 = 8

    /// The kernel memory `map` takes once created, in bytes (saturating at
    /// UInt64.max: a declared size can overflow any arithmetic).
    public func bytes(of map: Map) -> UInt64 {
        let entries = UInt64(map.maxEntries)
        let key = Self.roundUp(UInt64(map.keySize), to: 8)
        let value = Self.roundUp(UInt64(map.valueSize), to: 8)
        let cpus = UInt64(possibleCPUs)
        let preallocated = map.flags & Self.noPreallocate == 0
        switch map.type {
        case "array":
            let values = Self.product(entries, value)
            return map.flags & Self.mappable != 0 ? Self.roundUp(values, to: pageSize) : values
        case "percpu_array":
            return Self.product(entries, Self.sum(Self.pointer, Self.product(value, cpus)))
        case "prog_array", "perf_event_array", "cgroup_array", "array_of_maps",
             "devmap", "cpumap", "xskmap", "sockmap", "reuseport_sockarray":
            // Arrays of pointers to kernel objects that exist on their own
            // (programs, perf events, maps, devices, sockets). libbpf sizes
            // a perf event array without max_entries to the possible CPUs.
            let slots = map.type == "perf_event_array" && entries == 0 ? cpus : entries
            return Self.product(slots, Self.pointer)
        case "hash", "lru_hash", "percpu_hash", "lru_percpu_hash", "hash_of_maps", "devmap_hash", "sockhash":
            let perCPU = map.type == "percpu_hash" || map.type == "lru_percpu_hash"
            let lru = map.type.hasPrefix("lru_")
            let element = Self.sum(Self.hashElementHeader, key, perCPU ? Self.pointer : value)
            // A preallocated plain hash keeps one spare element per CPU for updates.
            let elements = preallocated && !perCPU && !lru ? Self.sum(entries, cpus) : entries
            // Elements allocated one by one also carry a free-list node.
            let perElement = preallocated ? element : Self.sum(element, Self.pointer)
            return Self.sum(Self.product(Self.nextPowerOfTwo(entries), Self.hashBucket),
                            Self.product(elements, perElement),
                            perCPU ? Self.product(entries, Self.product(value, cpus)) : 0)
        case "lpm_trie":
            // A node (40 bytes of links and prefix length, then the key's
            // data and the value) per entry, and at most one intermediate
            // node, without value, per entry.
            let node = Self.sum(40, UInt64(map.keySize))
            return Self.product(entries, Self.sum(Self.product(node, 2), value))
        case "stack_trace":
            return Self.sum(Self.product(Self.nextPowerOfTwo(entries), Self.pointer),
                            Self.product(entries, Self.sum(16, value)))
        case "queue", "stack":
            return Self.product(Self.sum(entries, 1), UInt64(map.valueSize))
        case "ringbuf", "user_ringbuf":
            // max_entries is the data area in bytes, plus the header and the
            // two position pages, and the page table that maps the data twice.
            let pages = entries / pageSize
            return Self.sum(entries, Self.product(3, pageSize), Self.product(pages, 2 * Self.pointer))
        case "bloom_filter":
            let hashes = map.extra & 0xf == 0 ? 5 : map.extra & 0xf
            let bits = Self.product(Self.product(hashes, entries) / 5, 7)
            return Self.nextPowerOfTwo(max(bits, 64)) / 8
        case "arena":
            // max_entries pages, allocated as programs touch them.
            return Self.product(entries, pageSize)
        case "sk_storage", "inode_storage", "task_storage", "cgrp_storage", "cgroup_storage", "percpu_cgroup_storage":
            // max_entries is 0: storage grows with the sockets, inodes,
            // tasks or cgroups that use it, and no declared number bounds it.
            return 0
        default:
            // struct_ops and any type newer than this list: a key and a value per entry.
            return Self.product(entries, Self.sum(key, value))
        }
    }

    /// Refuses an object whose maps, one of them or all together, would
    /// take more than the limit. Maps named in `reused` exist already (a
    /// replace keeps them) and cost nothing new.
    public func check(_ maps: [Map], reused: Set<String> = []) throws(ResponseError) {
        let costs = maps.filter { !reused.contains($0.name) }.map { ($0, bytes(of: $0)) }
        for (map, bytes) in costs where bytes > limit {
            throw ResponseError(
                .limitExceeded,
                "map '\(map.name)' (\(map.type), \(map.maxEntries) entries, key \(map.keySize) B, value \(map.valueSize) B) would take \(Self.describe(bytes)) of kernel memory, more than --max-probe-memory \(Self.describe(limit))",
                data: ["limit": "maxProbeMemory", "value": .int(Self.json(limit)), "map": .string(map.name),
                       "type": .string(map.type), "maxEntries": .int(Int64(map.maxEntries)),
                       "keySize": .int(Int64(map.keySize)), "valueSize": .int(Int64(map.valueSize)),
                       "bytes": .int(Self.json(bytes))])
        }
        let total = costs.reduce(UInt64(0)) { Self.sum($0, $1.1) }
        guard total > limit else { return }
        let largest = costs.sorted { $0.1 > $1.1 }
        let named = largest.prefix(3).map { "'\($0.0.name)' (\($0.0.type), \($0.0.maxEntries) entries) \(Self.describe($0.1))" }
        throw ResponseError(
            .limitExceeded,
            "the object's \(costs.count) maps would take \(Self.describe(total)) of kernel memory in total, more than --max-probe-memory \(Self.describe(limit)); the largest: \(named.joined(separator: ", "))",
            data: ["limit": "maxProbeMemory", "value": .int(Self.json(limit)), "bytes": .int(Self.json(total)),
                   "total": true,
                   "maps": .array(largest.map { ["map": .string($0.0.name), "type": .string($0.0.type), "bytes": .int(Self.json($0.1))] })])
    }

    // MARK: Sizes

    /// `268435456`, `512K`, `256M`, `1G`, `2T` (powers of 1024; `KiB`,
    /// `MB` and the like read the same), or nil.
    public static func parseSize(_ text: String) -> UInt64? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if digits.last == "B" || digits.last == "b" { digits = digits.dropLast() }
        let binary = digits.last == "i"
        if binary { digits = digits.dropLast() }
        var multiplier: UInt64 = 1
        if let last = digits.last, let unit = units[Character(last.uppercased())] {
            multiplier = unit
            digits = digits.dropLast()
        } else if binary {
            return nil  // "1i", "1iB"
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = UInt64(digits) else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }

    /// `16 GiB (17179869184 bytes)`: the unit a person reads, and the
    /// exact number.
    static func describe(_ bytes: UInt64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var unit = -1
        var scaled = Double(bytes)
        while scaled >= 1024, unit + 1 < units.count {
            scaled /= 1024
            unit += 1
        }
        guard unit >= 0 else { return "\(bytes) bytes" }
        let rounded = (scaled * 10).rounded() / 10
        let number = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(number) \(units[unit]) (\(bytes) bytes)"
    }

    // MARK: Saturating arithmetic

    private static func json(_ value: UInt64) -> Int64 {
        Int64(clamping: value)
    }

    static func sum(_ values: UInt64...) -> UInt64 {
        values.reduce(0) { partial, value in
            let (result, overflow) = partial.addingReportingOverflow(value)
            return overflow ? .max : result
        }
    }

    static func product(_ first: UInt64, _ second: UInt64) -> UInt64 {
        let (result, overflow) = first.multipliedReportingOverflow(by: second)
        return overflow ? .max : result
    }

    static func roundUp(_ value: UInt64, to multiple: UInt64) -> UInt64 {
        let remainder = value % multiple
        return remainder == 0 ? value : sum(value, multiple - remainder)
    }

    static func nextPowerOfTwo(_ value: UInt64) -> UInt64 {
        guard value > 1 else { return 1 }
        let shift = UInt64.bitWidth - (value - 1).leadingZeroBitCount
        return shift >= UInt64.bitWidth ? .max : 1 << shift
    }
}

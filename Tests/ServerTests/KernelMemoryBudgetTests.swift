import BpfleetServer
import BpfleetShared
import Testing

@Suite("KernelMemoryBudget")
struct KernelMemoryBudgetTests {
    let twoCPUs = KernelMemoryBudget(limit: 256 << 20, possibleCPUs: 2)

    func map(_ type: String, key: UInt32 = 4, value: UInt32 = 8, entries: UInt32, flags: UInt32 = 0,
             name: String = "m") -> KernelMemoryBudget.Map {
        KernelMemoryBudget.Map(name: name, type: type, keySize: key, valueSize: value, maxEntries: entries, flags: flags)
    }

    @Test func arraysTakeOneRoundedValuePerEntry() {
        #expect(twoCPUs.bytes(of: map("array", value: 8, entries: 1 << 31)) == 1 << 34)  // 16 GiB
        #expect(twoCPUs.bytes(of: map("array", value: 4, entries: 10)) == 80)  // values are 8-byte aligned
        #expect(twoCPUs.bytes(of: map("array", value: 12, entries: 1)) == 16)
        // BPF_F_MMAPABLE: whole pages.
        #expect(twoCPUs.bytes(of: map("array", value: 8, entries: 10, flags: 1 << 10)) == 4096)
        #expect(twoCPUs.bytes(of: map("array", value: 8, entries: 513, flags: 1 << 10)) == 8192)
    }

    @Test func perCPUMapsHoldAValuePerPossibleCPU() {
        let fourCPUs = KernelMemoryBudget(limit: 1 << 30, possibleCPUs: 4)
        // A pointer per entry, then 4 values of 8 bytes.
        #expect(fourCPUs.bytes(of: map("percpu_array", value: 8, entries: 1024)) == 1024 * (8 + 4 * 8))
        #expect(twoCPUs.bytes(of: map("percpu_array", value: 8, entries: 1024)) == 1024 * (8 + 2 * 8))
        // Buckets, elements carrying a pointer to their per-CPU values, and the values.
        #expect(fourCPUs.bytes(of: map("percpu_hash", key: 4, value: 8, entries: 1000)) == 1024 * 16 + 1000 * (48 + 8 + 8) + 1000 * 4 * 8)
        #expect(fourCPUs.bytes(of: map("lru_percpu_hash", key: 4, value: 8, entries: 1000)) == 1024 * 16 + 1000 * (48 + 8 + 8) + 1000 * 4 * 8)
    }

    @Test func hashMapsCountBucketsAndElements() {
        // 2^20 buckets of 16 bytes; 2^20 + 2 (a spare per CPU) elements of
        // a 48-byte header, the key and the value, each 8-byte aligned.
        #expect(twoCPUs.bytes(of: map("hash", key: 4, value: 8, entries: 1 << 20)) == (1 << 20) * 16 + ((1 << 20) + 2) * 64)
        #expect(twoCPUs.bytes(of: map("hash", key: 16, value: 8, entries: 100)) == 128 * 16 + 102 * (48 + 16 + 8))
        // LRU maps keep no spare elements.
        #expect(twoCPUs.bytes(of: map("lru_hash", key: 4, value: 8, entries: 100)) == 128 * 16 + 100 * 64)
        // BPF_F_NO_PREALLOC: no spares, a free-list node per element.
        #expect(twoCPUs.bytes(of: map("hash", key: 4, value: 8, entries: 100, flags: 1)) == 128 * 16 + 100 * 72)
    }

    @Test func ringBuffersAndPointerArrays() {
        // 256 KiB of data, three header pages, two page pointers per data page.
        #expect(twoCPUs.bytes(of: map("ringbuf", key: 0, value: 0, entries: 256 << 10)) == (256 << 10) + 3 * 4096 + 64 * 16)
        let bigPages = KernelMemoryBudget(limit: 1 << 30, possibleCPUs: 2, pageSize: 65536)
        #expect(bigPages.bytes(of: map("ringbuf", key: 0, value: 0, entries: 1 << 20)) == (1 << 20) + 3 * 65536 + 16 * 16)
        // libbpf sizes a perf event array without max_entries to the possible CPUs.
        #expect(twoCPUs.bytes(of: map("perf_event_array", key: 4, value: 4, entries: 0)) == 16)
        #expect(twoCPUs.bytes(of: map("perf_event_array", key: 4, value: 4, entries: 128)) == 1024)
        #expect(twoCPUs.bytes(of: map("prog_array", key: 4, value: 4, entries: 10)) == 80)
    }

    @Test func otherTypes() {
        #expect(twoCPUs.bytes(of: map("queue", key: 0, value: 12, entries: 9)) == 120)
        #expect(twoCPUs.bytes(of: map("stack_trace", key: 4, value: 1016, entries: 1000)) == 1024 * 8 + 1000 * (16 + 1016))
        #expect(twoCPUs.bytes(of: map("lpm_trie", key: 8, value: 8, entries: 10)) == 10 * (2 * 48 + 8))
        // 5 hash functions by default: 5 × 1000 / 5 × 7 = 7000 bits, 8192 rounded up.
        #expect(twoCPUs.bytes(of: map("bloom_filter", key: 0, value: 8, entries: 1000)) == 1024)
        #expect(twoCPUs.bytes(of: map("arena", key: 0, value: 0, entries: 100)) == 100 * 4096)
        // Storage that grows with sockets or tasks has no declared size.
        #expect(twoCPUs.bytes(of: map("task_storage", key: 4, value: 64, entries: 0)) == 0)
        // A type the budget does not know: key and value per entry.
        #expect(twoCPUs.bytes(of: map("some_future_map", key: 4, value: 8, entries: 10)) == 160)
    }

    @Test func hugeDeclarationsSaturateInsteadOfOverflowing() {
        let hugeCPUs = KernelMemoryBudget(limit: 1 << 30, possibleCPUs: 4096)
        #expect(hugeCPUs.bytes(of: map("percpu_hash", key: .max, value: .max, entries: .max)) == .max)
        #expect(hugeCPUs.bytes(of: map("hash", key: .max, value: .max, entries: .max)) == .max)
        #expect(hugeCPUs.bytes(of: map("arena", key: 0, value: 0, entries: .max)) == UInt64(UInt32.max) * 4096)
    }

    @Test func aMapOverTheLimitIsRefusedByName() throws {
        let huge = map("array", key: 4, value: 8, entries: 1 << 31, name: "huge")
        let error = try #require(throws: ResponseError.self) { try twoCPUs.check([map("array", entries: 1), huge]) }
        #expect(error.code == .limitExceeded)
        #expect(error.message == "map 'huge' (array, 2147483648 entries, key 4 B, value 8 B) would take 16 GiB (17179869184 bytes) of kernel memory, more than --max-probe-memory 256 MiB (268435456 bytes)")
        #expect(error.data == ["limit": "maxProbeMemory", "value": 268_435_456, "map": "huge", "type": "array",
                               "maxEntries": 2_147_483_648, "keySize": 4, "valueSize": 8, "bytes": 17_179_869_184])
    }

    @Test func mapsTogetherOverTheLimitAreRefusedAsATotal() throws {
        let budget = KernelMemoryBudget(limit: 1 << 20, possibleCPUs: 2)
        let maps = [map("array", value: 8, entries: 100_000, name: "a"), map("array", value: 8, entries: 50_000, name: "b"),
                    map("array", value: 8, entries: 10, name: "c")]
        let error = try #require(throws: ResponseError.self) { try budget.check(maps) }
        #expect(error.code == .limitExceeded)
        #expect(error.message == "the object's 3 maps would take 1.1 MiB (1200080 bytes) of kernel memory in total, more than --max-probe-memory 1 MiB (1048576 bytes); the largest: 'a' (array, 100000 entries) 781.3 KiB (800000 bytes), 'b' (array, 50000 entries) 390.6 KiB (400000 bytes), 'c' (array, 10 entries) 80 bytes")
        #expect(error.data == ["limit": "maxProbeMemory", "value": 1_048_576, "bytes": 1_200_080, "total": true,
                               "maps": [["map": "a", "type": "array", "bytes": 800_000], ["map": "b", "type": "array", "bytes": 400_000],
                                        ["map": "c", "type": "array", "bytes": 80]]])
    }

    @Test func mapsWithinTheLimitAndReusedMapsPass() throws {
        let budget = KernelMemoryBudget(limit: 1 << 20, possibleCPUs: 2)
        try budget.check([map("array", value: 8, entries: 100_000, name: "a"), map("array", value: 8, entries: 31_072, name: "b")])
        try budget.check([])
        // A replace that keeps "a": only "b" is new.
        let big = map("array", value: 8, entries: 1 << 31, name: "kept")
        try budget.check([big, map("array", value: 8, entries: 1000, name: "b")], reused: ["kept"])
        #expect(throws: ResponseError.self) { try budget.check([big], reused: ["other"]) }
    }

    static let sizes: [(String, UInt64)] = [
        ("268435456", 268_435_456), ("512M", 512 << 20), ("1G", 1 << 30), ("1GiB", 1 << 30), ("2t", 2 << 40),
        ("64k", 64 << 10), ("64KB", 64 << 10), ("100B", 100), (" 3M ", 3 << 20),
    ]

    @Test(arguments: sizes)
    func parsesSizes(text: String, bytes: UInt64) {
        #expect(KernelMemoryBudget.parseSize(text) == bytes)
    }

    @Test(arguments: ["", "M", "1.5G", "-1", "1X", "1 G", "G1", "99999999999999999999", "17179869184T", "１G", "1i", "1iB"])
    func refusesWhatIsNotASize(text: String) {
        #expect(KernelMemoryBudget.parseSize(text) == nil)
    }
}

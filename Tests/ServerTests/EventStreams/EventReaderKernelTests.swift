@testable import BpfleetServer
import BpfleetShared
import CLibBPF
import Foundation
import Glibc
import TestSupport
import Testing

/// RingBufferReader and PerfBufferReader against the real kernel: loads
/// programs/build/execsnoop.bpf.o and event_flood.bpf.o with libbpf, makes
/// the kernel fire them an exact number of times, and reads the records
/// back. Needs root (CI runs it as root); skipped with the reason otherwise.
@Suite("Event readers (kernel, needs root)", .serialized,
       .requiresKernel)
struct EventReaderKernelTests {
    static let execs = 25

    // MARK: execsnoop

    @Test func ringBufferDeliversEveryExecWithDecodedFields() throws {
        let binary = try UniqueBinary()
        defer { binary.remove() }
        var ids = KernelIDs()
        try {
            let fixture = try LoadedFixture("execsnoop", programs: ["execsnoop"])
            ids = fixture.ids
            let type = try #require(fixture.object.btf?.type(named: "struct exec_event"))
            let link = try fixture.attach("execsnoop")
            let reader = try RingBufferReader(mapFD: try fixture.mapFD("events"))
            #expect(reader.capacity == 256 * 1024)
            #expect(reader.epollFD >= 0)

            let pids = try (0..<Self.execs).map { _ in try binary.run() }
            let batches = try drain(reader) { batches in
                batches.joined().filter { $0.cString(at: 12, length: 16) == binary.comm }.count >= Self.execs
            }
            let ours = batches.joined().filter { $0.cString(at: 12, length: 16) == binary.comm }
            #expect(ours.count == Self.execs)
            // The ring keeps commit order: the execs in the order they ran.
            #expect(ours.map { pid_t($0.u32(at: 0)) } == pids)
            for (record, pid) in zip(ours, pids) {
                #expect(record.count == 284)
                let decoded = try parsedJSON(written(type, Array(record)))
                let expected = try parsedJSON(#"{"pid":\#(pid),"ppid":\#(getpid()),"uid":\#(getuid()),"comm":"\#(binary.comm)","filename":"\#(binary.path)"}"#)
                #expect(decoded == expected)
            }
            #expect(batches.allSatisfy { $0.lost == 0 })
            #expect(try fixture.counter("dropped") == 0)
            withExtendedLifetime((link, reader)) {}
        }()
        let left = ids.remaining()
        #expect(left.isEmpty, "left in the kernel: \(left)")
    }

    @Test func perfBufferDeliversEveryExecWithDecodedFields() throws {
        let binary = try UniqueBinary()
        defer { binary.remove() }
        var ids = KernelIDs()
        try {
            let fixture = try LoadedFixture("execsnoop", programs: ["execsnoop_perf"])
            ids = fixture.ids
            let type = try #require(fixture.object.btf?.type(named: "struct exec_event"))
            // The reader first: it is what puts the per-CPU rings in the map.
            let reader = try PerfBufferReader(mapFD: try fixture.mapFD("perf_events"))
            #expect(reader.bufferCount >= 1)
            #expect(reader.epollFD >= 0)
            let link = try fixture.attach("execsnoop_perf")

            let pids = try (0..<Self.execs).map { _ in try binary.run() }
            let batches = try drain(reader) { batches in
                batches.joined().filter { $0.cString(at: 12, length: 16) == binary.comm }.count >= Self.execs
            }
            let ours = batches.joined().filter { $0.cString(at: 12, length: 16) == binary.comm }
            #expect(ours.count == Self.execs)
            // In order per CPU only: compare as sets.
            #expect(ours.map { pid_t($0.u32(at: 0)) }.sorted() == pids.sorted())
            for record in ours {
                // A raw sample may carry padding after the record.
                #expect(record.count >= 284)
                let pid = record.u32(at: 0)
                let decoded = try parsedJSON(written(type, Array(record.prefix(284))))
                let expected = try parsedJSON(#"{"pid":\#(pid),"ppid":\#(getpid()),"uid":\#(getuid()),"comm":"\#(binary.comm)","filename":"\#(binary.path)"}"#)
                #expect(decoded == expected)
            }
            #expect(batches.reduce(0) { $0 + $1.lost } == 0)
            #expect(try fixture.counter("dropped") == 0)
            withExtendedLifetime((link, reader)) {}
        }()
        let left = ids.remaining()
        #expect(left.isEmpty, "left in the kernel: \(left)")
    }

    // MARK: event_flood

    static let floodCalls = 200_000

    static func floodGlobals() -> [String: [UInt8]] {
        ["target_tgid": bytes(of: UInt32(getpid())), "target_nr": bytes(of: getppidSyscall)]
    }

    @Test func floodedRingBufferCountsEveryRecordAndGoesOn() throws {
        var ids = KernelIDs()
        try {
            let fixture = try LoadedFixture("event_flood", programs: ["flood_ringbuf"], globals: Self.floodGlobals())
            ids = fixture.ids
            let link = try fixture.attach("flood_ringbuf")
            let reader = try RingBufferReader(mapFD: try fixture.mapFD("flood_events"))
            #expect(reader.capacity == 4096)

            // Nobody reads while the process makes the calls: the ring fills.
            makeGetppidCalls(Self.floodCalls)
            #expect(try fixture.counter("attempts") == UInt64(Self.floodCalls))
            let dropped = try fixture.counter("lost")

            let batches = try drainNow(reader, maxRecords: 50)
            #expect(batches.allSatisfy { $0.count <= 50 && $0.lost == 0 })
            let records = Array(batches.joined())
            #expect(UInt64(records.count) + dropped == UInt64(Self.floodCalls))
            #expect(dropped > 0)
            #expect(records.count > 100)  // a 4 KiB ring holds about 170
            // Sequence numbers are taken after a successful reserve: every one
            // from 0 on, once, in order, so stopping a poll at its limit lost
            // nothing between polls.
            #expect(records.map { $0.u64(at: 0) } == (0..<UInt64(records.count)).map { $0 })
            #expect(records.allSatisfy { Int64($0.u32(at: 8)) == getppidSyscall && $0.count == 16 })

            // The stream goes on after the flood.
            makeGetppidCalls(10)
            let after = Array(try drain(reader, seconds: 5) { $0.joined().count >= 10 }.joined())
            #expect(after.map { $0.u64(at: 0) } == (0..<10).map { UInt64(records.count + $0) })
            #expect(try fixture.counter("lost") == dropped)
            withExtendedLifetime((link, reader)) {}
        }()
        let left = ids.remaining()
        #expect(left.isEmpty, "left in the kernel: \(left)")
    }

    @Test func ringBufferPollStopsAtItsByteAndRecordLimits() throws {
        var ids = KernelIDs()
        try {
            let fixture = try LoadedFixture("event_flood", programs: ["flood_ringbuf"], globals: Self.floodGlobals())
            ids = fixture.ids
            let link = try fixture.attach("flood_ringbuf")
            let reader = try RingBufferReader(mapFD: try fixture.mapFD("flood_events"))
            makeGetppidCalls(100)  // 100 × 24 bytes: fits the ring
            #expect(try fixture.counter("lost") == 0)

            // 16-byte records: the poll stops at the first record that
            // reaches 100 bytes, the 7th.
            let first = try reader.poll(timeoutMs: 0, maxRecords: 1000, maxBytes: 100)
            #expect(first.count == 7)
            #expect(first.byteCount == 112)
            // The closure form: a record limit.
            var seen: [UInt64] = []
            let taken = try reader.poll(timeoutMs: 0, maxRecords: 3) { record in
                seen.append(record.loadUnaligned(as: UInt64.self))
            }
            #expect(taken == 3)
            #expect(seen == [7, 8, 9])
            let rest = try reader.poll(timeoutMs: 0, maxRecords: 1000, maxBytes: 1 << 20)
            #expect(rest.map { $0.u64(at: 0) } == (10..<100).map { UInt64($0) })
            // Empty now: a poll with a timeout waits it out and returns nothing.
            let start = Date()
            #expect(try reader.poll(timeoutMs: 50, maxRecords: 10, maxBytes: 1 << 20).isEmpty)
            #expect(Date().timeIntervalSince(start) >= 0.04)
            withExtendedLifetime((link, reader)) {}
        }()
        let left = ids.remaining()
        #expect(left.isEmpty, "left in the kernel: \(left)")
    }

    @Test func floodedPerfBufferReportsTheKernelsLostCount() throws {
        var ids = KernelIDs()
        let cpus = allowedCPUs()
        try {
            let fixture = try LoadedFixture("event_flood", programs: ["flood_perf"], globals: Self.floodGlobals())
            ids = fixture.ids
            // One page per CPU: 4 KiB, 32 bytes a sample, about 128 samples.
            let reader = try PerfBufferReader(mapFD: try fixture.mapFD("flood_perf_events"), pagesPerCPU: 1)
            let link = try fixture.attach("flood_perf")

            // The flood on one CPU, so one ring overflows.
            try onCPU(cpus[0]) { makeGetppidCalls(Self.floodCalls) }
            var batches = try drainNow(reader, maxRecords: 50)
            // The kernel reports a ring's losses with its next record: one
            // more call on every CPU flushes them all.
            for cpu in cpus {
                try onCPU(cpu) { makeGetppidCalls(1) }
            }
            batches += try drainNow(reader, maxRecords: 50)
            #expect(batches.allSatisfy { $0.count <= 50 })

            let made = UInt64(Self.floodCalls + cpus.count)
            #expect(try fixture.counter("attempts") == made)
            let dropped = try fixture.counter("lost")
            let received = UInt64(batches.reduce(0) { $0 + $1.count })
            let reportedLost = batches.reduce(UInt64(0)) { $0 + $1.lost }
            #expect(received + reportedLost == made)
            #expect(reportedLost == dropped)
            #expect(dropped > 0)
            let seqs = batches.joined().map { $0.u64(at: 0) }
            #expect(Set(seqs).count == seqs.count)
            withExtendedLifetime((link, reader)) {}
        }()
        let left = ids.remaining()
        #expect(left.isEmpty, "left in the kernel: \(left)")
    }

    @Test func perfPollFindsSamplesThatWokeNobody() throws {
        var ids = KernelIDs()
        try {
            let fixture = try LoadedFixture("event_flood", programs: ["flood_perf"], globals: Self.floodGlobals())
            ids = fixture.ids
            // 5 samples never reach 64, so epoll never says a ring is ready;
            // a poll reads the rings before it waits, and finds them.
            let reader = try PerfBufferReader(mapFD: try fixture.mapFD("flood_perf_events"), pagesPerCPU: 2, wakeupEvents: 64)
            let link = try fixture.attach("flood_perf")
            makeGetppidCalls(5)
            let batch = try reader.poll(timeoutMs: 1000, maxRecords: 100, maxBytes: 1 << 20)
            #expect(batch.map { $0.u64(at: 0) }.sorted() == [0, 1, 2, 3, 4])
            #expect(batch.lost == 0)
            let thrown = #expect(throws: KernelError.self) {
                _ = try PerfBufferReader(mapFD: try fixture.mapFD("flood_perf_events"), wakeupEvents: 0)
            }
            let error = thrown.map { ResponseError($0) }
            #expect(error?.code == .invalidParams)
            withExtendedLifetime((link, reader)) {}
        }()
        let left = ids.remaining()
        #expect(left.isEmpty, "left in the kernel: \(left)")
    }

    // MARK: map types

    @Test func readersTakeOnlyTheirMapType() throws {
        let hash = bpf_map_create(BPF_MAP_TYPE_HASH, "bpfleet_t_hash", 4, 8, 16, nil)
        #expect(hash >= 0)
        defer { close(hash) }
        let ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "bpfleet_t_ring", 0, 0, 4096, nil)
        #expect(ring >= 0)
        defer { close(ring) }
        let cpuCount = Int(libbpf_num_possible_cpus())
        let perf = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "bpfleet_t_perf", 4, 4, UInt32(cpuCount), nil)
        #expect(perf >= 0)
        defer { close(perf) }

        let attempts: [() throws -> Void] = [
            { _ = try RingBufferReader(mapFD: hash) },
            { _ = try PerfBufferReader(mapFD: hash) },
            { _ = try RingBufferReader(mapFD: perf) },
            { _ = try PerfBufferReader(mapFD: ring) },
            { _ = try EventStreams.open(mapFD: hash) },
        ]
        for attempt in attempts {
            let thrown = #expect(throws: KernelError.self) { try attempt() }
            let error = thrown.map { ResponseError($0) }
            #expect(error?.code == .invalidParams)
            #expect(error?.message.contains("ringbuf or perf_event_array") == true)
        }
        let badPagesThrown = #expect(throws: KernelError.self) { _ = try PerfBufferReader(mapFD: perf, pagesPerCPU: 3) }
        let badPages = badPagesThrown.map { ResponseError($0) }
        #expect(badPages?.code == .invalidParams)

        let ringReader = try EventStreams.open(mapFD: ring)
        #expect(ringReader is RingBufferReader)
        #expect(ringReader.mapFD != ring)  // its own descriptor
        #expect(try ringReader.poll(timeoutMs: 0).isEmpty)
        let perfReader = try EventStreams.open(mapFD: perf, perfPagesPerCPU: 2)
        #expect((perfReader as? PerfBufferReader)?.bufferCount == cpuCount)
        #expect(try perfReader.poll(timeoutMs: 0).isEmpty)
        let start = Date()
        #expect(try perfReader.poll(timeoutMs: 50).isEmpty)
        #expect(Date().timeIntervalSince(start) >= 0.04)
    }
}

// encoders [N] [REPS] [NAMES]: encodes N (u32 key, u64 value) entries as the text
// [{"key":K,"value":V},...] in several ways and prints one line per way:
//   encoder=NAME reps=R median_ms=.. min_ms=.. bytes=B mb_per_s=.. fnv=HASH
// MB/s is output bytes (10^6) per second at the median. Every way must give
// the same bytes (same fnv); the entries are bench/common.h's pattern.
// NAMES (comma-separated) runs only those encoders (for profiling one).
import BpfleetServer
import Foundation
import NIOCore

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1])! : 1_000_000
let reps = arguments.count > 2 ? Int(arguments[2])! : 5
let only = arguments.count > 3 ? Set(arguments[3].split(separator: ",").map(String.init)) : nil

@inline(__always) func benchKey(_ i: UInt32) -> UInt32 { i &* 2_654_435_761 }
let scale: [UInt64] = [1, 10, 1000, 100_000, 10_000_000, 1_000_000_000, 100_000_000_000, 1_000_000_000_000]
@inline(__always) func benchValue(_ i: UInt32) -> UInt64 {
    UInt64(i) &* 7919 % 1000 &+ UInt64(i % 997) &* scale[Int(i % 8)]
}

// The entries as the kernel's batch lookup leaves them: keys and values in
// two packed arrays (MapCursor's `keys` and `values`).
let keys = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: count)
let values = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: count)
for i in 0..<count {
    keys[i] = benchKey(UInt32(i))
    values[i] = benchValue(UInt32(i))
}

func fnv(_ bytes: UnsafeRawBufferPointer, _ hash: inout UInt64) {
    for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
}
let fnvStart: UInt64 = 0xcbf2_9ce4_8422_2325

struct Output {
    var bytes = 0
    var hash = fnvStart
}

/// Times `encode` alone; `finish` (counting and hashing the text, freeing
/// it) runs after the clock stops.
func timed<T>(_ encode: () -> T, then finish: (T) -> Output) -> (Double, Output) {
    let start = DispatchTime.now().uptimeNanoseconds
    let text = encode()
    let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    return (ms, finish(text))
}

func report(_ name: String, reps: Int, _ run: () -> (Double, Output)) {
    if let only, !only.contains(name) { return }
    var times: [Double] = []
    var output = Output()
    for _ in 0..<reps {
        let (ms, out) = run()
        times.append(ms)
        output = out
    }
    times.sort()
    let median = times[times.count / 2]
    let line = String(format: "encoder=%@ reps=%d median_ms=%.1f min_ms=%.1f bytes=%d mb_per_s=%.0f fnv=%016llx\n",
                      name, reps, median, times[0], output.bytes, Double(output.bytes) / 1e6 / (median / 1e3), output.hash)
    FileHandle.standardOutput.write(Data(line.utf8))
}

let keyType = BTFType.integer(size: 4, signed: false, char: false, bool: false)
let valueType = BTFType.integer(size: 8, signed: false, char: false, bool: false)
let codec = MapCodec(keySize: 4, valueSize: 8, cpus: nil, keyType: keyType, valueType: valueType)

// (i) The server's direct writer, as MapSnapshotWriter runs it: batches of
// 16,384 entries (MapCursor's batch for 12-byte entries), each encoded into
// its own ByteBuffer, keys and values read from the raw batch arrays through
// the map's codec (BpfleetServer's own MapCodec and JSONWriter).
report("direct-writer-bytebuffer", reps: reps) {
    timed({ () -> [ByteBuffer] in
        var batches: [ByteBuffer] = []
        var head = ByteBuffer()
        head.writeStaticString("[")
        batches.append(head)
        let batchSize = 16384
        let keyBytes = UnsafeRawBufferPointer(keys)
        let valueBytes = UnsafeRawBufferPointer(values)
        var done = 0
        while done < count {
            let take = min(batchSize, count - done)
            var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: take * 40))
            for index in done..<(done + take) {
                if index > 0 { out.byte(UInt8(ascii: ",")) }
                out.raw("{\"key\":")
                codec.writeKey(UnsafeRawBufferPointer(rebasing: keyBytes[(index * 4)..<(index * 4 + 4)]), format: .typed, to: &out)
                out.raw(",\"value\":")
                codec.writeValue(UnsafeRawBufferPointer(rebasing: valueBytes[(index * 8)..<(index * 8 + 8)]), format: .typed, to: &out)
                out.byte(UInt8(ascii: "}"))
            }
            batches.append(out.buffer)
            done += take
        }
        var tail = ByteBuffer()
        tail.writeStaticString("]")
        batches.append(tail)
        return batches
    }, then: { batches in
        var output = Output()
        for batch in batches {
            output.bytes += batch.readableBytes
            batch.withUnsafeReadableBytes { fnv($0, &output.hash) }
        }
        return output
    })
}

// (i') The same digits-backwards algorithm writing through a raw pointer
// into one preallocated block: what the writer costs without ByteBuffer's
// per-call bookkeeping (a floor for (i), not what the server runs).
report("direct-writer-rawpointer", reps: reps) {
    timed({ () -> (UnsafeMutableRawBufferPointer, Int) in
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: count * 48 + 16, alignment: 16)
        var p = block.baseAddress!.assumingMemoryBound(to: UInt8.self)
        @inline(__always) func put(_ s: StaticString) {
            p.update(from: s.utf8Start, count: s.utf8CodeUnitCount)
            p += s.utf8CodeUnitCount
        }
        @inline(__always) func uint(_ v: UInt64) {
            var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
            withUnsafeMutableBytes(of: &scratch) { s in
                var v = v
                var i = 20
                repeat {
                    i &-= 1
                    let (q, r) = v.quotientAndRemainder(dividingBy: 10)
                    s[i] = 48 &+ UInt8(truncatingIfNeeded: r)
                    v = q
                } while v > 0
                p.update(from: s.baseAddress!.assumingMemoryBound(to: UInt8.self) + i, count: 20 - i)
                p += 20 - i
            }
        }
        put("[")
        for index in 0..<count {
            if index > 0 { put(",") }
            put("{\"key\":")
            uint(UInt64(keys[index]))
            put(",\"value\":")
            uint(values[index])
            put("}")
        }
        put("]")
        return (block, UnsafeMutableRawPointer(p) - block.baseAddress!)
    }, then: { (block, length) in
        var output = Output()
        output.bytes = length
        fnv(UnsafeRawBufferPointer(rebasing: block[0..<length]), &output.hash)
        block.deallocate()
        return output
    })
}

// (ii) Foundation's JSONEncoder on an array of Codable structs. Sorted keys
// so that "key" comes before "value" as in the other encoders' text.
struct Entry: Codable {
    var key: UInt32
    var value: UInt64
}
let foundationReps = max(1, min(reps, 3))
report("foundation-jsonencoder", reps: foundationReps) {
    timed({ () -> Data in
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for i in 0..<count { entries.append(Entry(key: keys[i], value: values[i])) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try! encoder.encode(entries)
    }, then: { data in
        var output = Output()
        output.bytes = data.count
        data.withUnsafeBytes { fnv($0, &output.hash) }
        return output
    })
}

// (ii') Foundation's JSONSerialization on [[String: Any]] with NSNumbers.
report("foundation-jsonserialization", reps: foundationReps) {
    timed({ () -> Data in
        var objects: [Any] = []
        objects.reserveCapacity(count)
        for i in 0..<count {
            objects.append(["key": NSNumber(value: keys[i]), "value": NSNumber(value: values[i])] as [String: Any])
        }
        return try! JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])
    }, then: { data in
        var output = Output()
        output.bytes = data.count
        data.withUnsafeBytes { fnv($0, &output.hash) }
        return output
    })
}

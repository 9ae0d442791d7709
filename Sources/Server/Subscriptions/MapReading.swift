import BpfleetShared
import Foundation
import NIOCore

/// One reading of a map, its entries sorted by key bytes: what every watch
/// of the map at one tick is sent, full or as the difference from an
/// earlier reading. Immutable once taken, so any number of subscribers
/// share it, and a delta subscriber keeps the one it was last sent.
final class MapReading: Sendable {
    /// The watch schedule's tick this reading was taken at.
    let tick: Int
    let takenAt: Date
    let count: Int
    let keySize: Int
    /// Bytes of one entry's value as lookups return it (all CPUs' shares).
    let valueSize: Int
    /// `count` keys of `keySize` bytes, in ascending byte order, no repeats.
    private let keys: [UInt8]
    /// The values, in the keys' order.
    private let values: [UInt8]

    private init(tick: Int, takenAt: Date, count: Int, keySize: Int, valueSize: Int, keys: [UInt8], values: [UInt8]) {
        self.tick = tick
        self.takenAt = takenAt
        self.count = count
        self.keySize = keySize
        self.valueSize = valueSize
        self.keys = keys
        self.values = values
    }

    /// Walks the whole map (batch reads where the map type has them).
    /// Blocking: call it on a thread pool.
    static func read(_ io: MapIO, tick: Int) throws(ResponseError) -> MapReading {
        let takenAt = Date()
        let cursor = MapCursor(map: io)
        var keys: [UInt8] = []
        var values: [UInt8] = []
        var count = 0
        while true {
            let batch = try kernelCall { () throws(KernelError) in try cursor.next() }
            if batch == 0 { break }
            keys.append(contentsOf: UnsafeRawBufferPointer(rebasing: cursor.keys[..<(batch * io.keySize)]))
            values.append(contentsOf: UnsafeRawBufferPointer(rebasing: cursor.values[..<(batch * io.valueBufferSize)]))
            count += batch
        }
        return sorted(tick: tick, takenAt: takenAt, count: count, keySize: io.keySize, valueSize: io.valueBufferSize,
                      keys: keys, values: values)
    }

    /// A reading from entries in any order (tests build them this way).
    /// A key given twice keeps its last value, as a map walk that met an
    /// entry twice would have it now.
    static func sorted(tick: Int, takenAt: Date, count: Int, keySize: Int, valueSize: Int,
                       keys: [UInt8], values: [UInt8]) -> MapReading {
        precondition(keys.count == count * keySize && values.count == count * valueSize)
        guard keySize > 0 else {
            return MapReading(tick: tick, takenAt: takenAt, count: count, keySize: keySize, valueSize: valueSize,
                              keys: keys, values: values)
        }
        var order = Array(0..<count)
        keys.withUnsafeBytes { k in
            let base = k.baseAddress!
            // Stable, so the later of two equal keys stays last.
            order.sort { a, b in
                let c = memcmp(base + a * keySize, base + b * keySize, keySize)
                return c < 0 || (c == 0 && a < b)
            }
        }
        var sortedKeys = [UInt8]()
        var sortedValues = [UInt8]()
        sortedKeys.reserveCapacity(keys.count)
        sortedValues.reserveCapacity(values.count)
        var kept = 0
        keys.withUnsafeBytes { k in
            values.withUnsafeBytes { v in
                for (position, index) in order.enumerated() {
                    let key = UnsafeRawBufferPointer(rebasing: k[(index * keySize)..<((index + 1) * keySize)])
                    let value = UnsafeRawBufferPointer(rebasing: v[(index * valueSize)..<((index + 1) * valueSize)])
                    if position + 1 < order.count,
                       let base = k.baseAddress, memcmp(base + index * keySize, base + order[position + 1] * keySize, keySize) == 0 {
                        continue  // the same key again next: that one is newer
                    }
                    sortedKeys.append(contentsOf: key)
                    sortedValues.append(contentsOf: value)
                    kept += 1
                }
            }
        }
        return MapReading(tick: tick, takenAt: takenAt, count: kept, keySize: keySize, valueSize: valueSize,
                          keys: sortedKeys, values: sortedValues)
    }

    // MARK: Notification bodies

    /// What follows `"seq":N` in a `subscription.map` notification: the
    /// time, then every entry (full) or what changed since `previous`
    /// (delta; every entry when there is none), and the closing braces and
    /// newline. Each subscriber puts its own id and seq in front.
    func body(mode: WatchMode, format: ValueFormat, codec: MapCodec, stacks: StackRendering? = nil, previous: MapReading?) -> ByteBuffer {
        var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: 96 + count * 24))
        out.raw(",\"takenAt\":")
        out.string(WireDate.string(takenAt))
        keys.withUnsafeBytes { k in
            values.withUnsafeBytes { v in
                func key(_ i: Int) -> UnsafeRawBufferPointer {
                    UnsafeRawBufferPointer(rebasing: k[(i * keySize)..<((i + 1) * keySize)])
                }
                func value(_ i: Int) -> UnsafeRawBufferPointer {
                    UnsafeRawBufferPointer(rebasing: v[(i * valueSize)..<((i + 1) * valueSize)])
                }
                var first = true
                func entry(_ i: Int) {
                    if !first { out.byte(UInt8(ascii: ",")) }
                    first = false
                    out.raw("{\"key\":")
                    codec.writeKey(key(i), format: format, to: &out)
                    out.raw(",\"value\":")
                    codec.writeValue(value(i), key: key(i), format: format, stacks: stacks, to: &out)
                    out.byte(UInt8(ascii: "}"))
                }
                switch mode {
                case .full:
                    out.raw(",\"entries\":[")
                    for i in 0..<count { entry(i) }
                case .delta:
                    out.raw(",\"set\":[")
                    guard let previous, previous.keySize == keySize, previous.valueSize == valueSize else {
                        for i in 0..<count { entry(i) }
                        out.raw("],\"removed\":[")
                        break
                    }
                    var removed: [Int] = []
                    previous.walk(against: self) { change in
                        switch change {
                        case .set(let i): entry(i)
                        case .removed(let j): removed.append(j)
                        }
                    }
                    out.raw("],\"removed\":[")
                    previous.keys.withUnsafeBytes { pk in
                        for (n, j) in removed.enumerated() {
                            if n > 0 { out.byte(UInt8(ascii: ",")) }
                            codec.writeKey(UnsafeRawBufferPointer(rebasing: pk[(j * keySize)..<((j + 1) * keySize)]),
                                           format: format, to: &out)
                        }
                    }
                }
            }
        }
        out.raw("]}}\n")
        return out.buffer
    }

    enum Change: Equatable {
        /// Entry `i` of the newer reading is new or has a new value.
        case set(Int)
        /// Entry `j` of this (older) reading is gone from the newer one.
        case removed(Int)
    }

    /// The changes from this reading to `newer`, in key order: one pass
    /// over both sorted key lists. Both must have the same key and value
    /// sizes.
    func walk(against newer: MapReading, _ change: (Change) -> Void) {
        keys.withUnsafeBytes { ok in
            values.withUnsafeBytes { ov in
                newer.keys.withUnsafeBytes { nk in
                    newer.values.withUnsafeBytes { nv in
                        var i = 0  // newer
                        var j = 0  // self
                        while i < newer.count || j < count {
                            let order: Int32
                            if i == newer.count {
                                order = 1
                            } else if j == count {
                                order = -1
                            } else {
                                order = memcmp(nk.baseAddress! + i * keySize, ok.baseAddress! + j * keySize, keySize)
                            }
                            if order < 0 {
                                change(.set(i))
                                i += 1
                            } else if order > 0 {
                                change(.removed(j))
                                j += 1
                            } else {
                                if valueSize > 0, memcmp(nv.baseAddress! + i * valueSize, ov.baseAddress! + j * valueSize, valueSize) != 0 {
                                    change(.set(i))
                                }
                                i += 1
                                j += 1
                            }
                        }
                    }
                }
            }
        }
    }
}

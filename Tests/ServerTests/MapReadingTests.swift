@testable import BpfleetServer
import BpfleetShared
import Foundation
import NIOCore
import Testing

/// Readings built from (key, value) pairs of 2-byte keys and 1-byte values,
/// read back as hex: the bytes are what the tests name.
private func reading(_ pairs: [(key: [UInt8], value: UInt8)], tick: Int = 1) -> MapReading {
    MapReading.sorted(tick: tick, takenAt: Date(timeIntervalSince1970: 1_700_000_000), count: pairs.count, keySize: 2,
                      valueSize: 1, keys: pairs.flatMap(\.key), values: pairs.map(\.value))
}

private let hexCodec = MapCodec(keySize: 2, valueSize: 1, cpus: nil, keyType: nil, valueType: nil)

private func body(_ reading: MapReading, _ mode: WatchMode, previous: MapReading? = nil) -> String {
    String(buffer: reading.body(mode: mode, format: .hex, codec: hexCodec, previous: previous))
}

private let time = #","takenAt":"2023-11-14T22:13:20Z""#

@Suite("Map readings shared by watches")
struct MapReadingTests {
    @Test("entries come out in key byte order; a key met twice keeps its later value")
    func sortedAndDeduplicated() {
        let r = reading([([0x02, 0x00], 1), ([0x01, 0xff], 2), ([0x02, 0x00], 3), ([0x00, 0x05], 4)])
        #expect(r.count == 3)
        #expect(body(r, .full) == time + #","entries":[{"key":"0005","value":"04"},{"key":"01ff","value":"02"},{"key":"0200","value":"03"}]}}"# + "\n")
    }

    @Test("an empty map is an empty list")
    func empty() {
        #expect(body(reading([]), .full) == time + #","entries":[]}}"# + "\n")
        #expect(body(reading([]), .delta, previous: reading([([0, 1], 1)])) == time + #","set":[],"removed":["0001"]}}"# + "\n")
    }

    @Test("a delta sets new and changed entries and removes the gone, each in key order")
    func delta() {
        let old = reading([([0, 1], 1), ([0, 2], 2), ([0, 3], 3), ([0, 9], 9)])
        let new = reading([([0, 0], 7), ([0, 2], 2), ([0, 3], 4), ([0, 5], 5)], tick: 2)
        var changes: [MapReading.Change] = []
        old.walk(against: new) { changes.append($0) }
        #expect(changes == [.set(0), .removed(0), .set(2), .set(3), .removed(3)])
        #expect(body(new, .delta, previous: old)
            == time + #","set":[{"key":"0000","value":"07"},{"key":"0003","value":"04"},{"key":"0005","value":"05"}],"removed":["0001","0009"]}}"# + "\n")
    }

    @Test("the first delta sets every entry")
    func firstDelta() {
        let r = reading([([0, 2], 2), ([0, 1], 1)])
        #expect(body(r, .delta) == time + #","set":[{"key":"0001","value":"01"},{"key":"0002","value":"02"}],"removed":[]}}"# + "\n")
    }

    @Test("deltas applied in order rebuild every reading exactly", arguments: [1, 2, 3])
    func deltasRebuild(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var map: [UInt16: UInt8] = [:]
        var rebuilt: [UInt16: UInt8] = [:]
        var previous: MapReading?
        for tick in 1...30 {
            for _ in 0..<40 {
                let key = UInt16(rng.next() % 300)
                if rng.next() % 4 == 0 { map[key] = nil } else { map[key] = UInt8(rng.next() % 3) }
            }
            let r = reading(map.map { (key: [UInt8($0.key >> 8), UInt8($0.key & 0xff)], value: $0.value) }, tick: tick)
            let text = body(r, .delta, previous: previous)
            let json = try! JSONSerialization.jsonObject(with: Data(("{\"x\":0" + text.dropLast(2)).utf8)) as! [String: Any]
            for entry in json["set"] as! [[String: String]] {
                rebuilt[UInt16(entry["key"]!, radix: 16)!] = UInt8(entry["value"]!, radix: 16)!
            }
            for key in json["removed"] as! [String] {
                #expect(rebuilt.removeValue(forKey: UInt16(key, radix: 16)!) != nil)
            }
            #expect(rebuilt == map, "tick \(tick)")
            previous = r
        }
    }
}

/// A small deterministic generator, so a failure repeats.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The series of one export's scrape, by their label text: the texts one
/// after another in one buffer, found through an open-addressing table of
/// series numbers. An entry's text is written at the buffer's end and kept
/// only when it is new: no allocation per entry or per series, and one
/// hash (the process' seeded Hasher, so crafted texts cannot be made to
/// collide) and one probe sequence per entry.
struct SeriesTable {
    /// Every series' text, in series order; an entry's text is written
    /// at its end, then `settle` keeps it or takes it off.
    var arena: [UInt8] = []
    /// Where each series' text ends in `arena` (it starts where the one
    /// before ends, or at 0).
    private var ends: [Int] = []
    private var hashes: [Int] = []
    /// Series numbers, -1 for an empty slot; a power of two long, at most
    /// half full.
    private var slots: [Int32]

    var count: Int { ends.count }

    init(expected: Int) {
        var size = 16
        while size < expected * 2 { size *= 2 }
        slots = Array(repeating: -1, count: size)
        ends.reserveCapacity(expected)
        hashes.reserveCapacity(expected)
    }

    /// The text of `series`, as a range of `arena`.
    func range(of series: Int) -> Range<Int> {
        (series == 0 ? 0 : ends[series - 1])..<ends[series]
    }

    /// The series whose text is `arena[start...]` (just written there):
    /// a known one (and the text is taken off again), or a new one.
    mutating func settle(from start: Int) -> (series: Int, isNew: Bool) {
        let hash = arena.withUnsafeBytes { bytes in
            var hasher = Hasher()
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes[start...]))
            return hasher.finalize()
        }
        let mask = slots.count - 1
        var slot = hash & mask
        while slots[slot] >= 0 {
            let known = Int(slots[slot])
            if hashes[known] == hash, sameText(known, start) {
                arena.removeSubrange(start...)
                return (known, false)
            }
            slot = (slot + 1) & mask
        }
        let series = ends.count
        slots[slot] = Int32(truncatingIfNeeded: series)
        ends.append(arena.count)
        hashes.append(hash)
        if ends.count * 2 > slots.count { grow() }
        return (series, true)
    }

    private func sameText(_ series: Int, _ start: Int) -> Bool {
        let known = range(of: series)
        guard known.count == arena.count - start else { return false }
        return arena.withUnsafeBufferPointer { bytes in
            UnsafeBufferPointer(rebasing: bytes[known]).elementsEqual(UnsafeBufferPointer(rebasing: bytes[start...]))
        }
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (series, hash) in hashes.enumerated() {
            var slot = hash & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(truncatingIfNeeded: series)
        }
    }
}

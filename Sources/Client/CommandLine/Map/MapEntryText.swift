import BpfleetShared
import NIOCore

/// Map entries as the node wrote them: each key and value is the JSON text
/// of the response, so struct fields keep their order and a snapshot of a
/// million entries is never decoded into a tree.
struct MapEntryText {
    var key: String
    var value: String

    /// One `{"key":...,"value":...}` object.
    static func entry(_ bytes: UnsafeRawBufferPointer) throws -> MapEntryText {
        let members = try JSONScanner.members(of: bytes)
        func text(_ name: String) throws -> String {
            guard let range = members.first(where: { $0.name == name })?.range else {
                throw MalformedEntry(detail: "an entry has no \"\(name)\"")
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }
        return MapEntryText(key: try text("key"), value: try text("value"))
    }

    /// A `map.snapshot` result: its entries, and whether the map held more.
    static func snapshot(_ result: ByteBuffer) throws -> (entries: [MapEntryText], truncated: Bool) {
        try result.withUnsafeReadableBytes { bytes in
            let members = try JSONScanner.members(of: bytes)
            guard let entries = members.first(where: { $0.name == "entries" })?.range else {
                throw MalformedEntry(detail: "no \"entries\"")
            }
            let list = UnsafeRawBufferPointer(rebasing: bytes[entries])
            let ranges = try JSONElements.ranges(of: list)
            var texts: [MapEntryText] = []
            texts.reserveCapacity(ranges.count)
            for range in ranges {
                texts.append(try entry(UnsafeRawBufferPointer(rebasing: list[range])))
            }
            let truncated = members.first(where: { $0.name == "truncated" }).map {
                String(decoding: UnsafeRawBufferPointer(rebasing: bytes[$0.range]), as: UTF8.self) == "true"
            } ?? false
            return (texts, truncated)
        }
    }

    struct MalformedEntry: Error, CustomStringConvertible {
        var detail: String
        var description: String { detail }
    }
}

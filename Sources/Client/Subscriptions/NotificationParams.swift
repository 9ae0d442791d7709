import BpfleetShared
import NIOCore

/// Members of a notification's params, read from the raw bytes without
/// building a tree.
enum NotificationParams {
    /// The text of each top-level member, in the node's order.
    static func members(_ params: ByteBuffer) -> [(name: String, text: ByteBuffer)]? {
        params.withUnsafeReadableBytes { bytes in
            guard let members = try? JSONScanner.members(of: bytes) else { return nil }
            return members.map { member in
                (member.name, params.getSlice(at: params.readerIndex + member.range.lowerBound, length: member.range.count)!)
            }
        }
    }

    /// The elements of a JSON array, each as its own text.
    static func elements(_ array: ByteBuffer) -> [ByteBuffer]? {
        array.withUnsafeReadableBytes { bytes in
            guard let ranges = try? JSONElements.ranges(of: bytes) else { return nil }
            return ranges.map { array.getSlice(at: array.readerIndex + $0.lowerBound, length: $0.count)! }
        }
    }

    static func integer(_ text: ByteBuffer) -> Int? {
        Int(String(decoding: text.readableBytesView, as: UTF8.self))
    }

    static func text(_ buffer: ByteBuffer) -> String {
        String(decoding: buffer.readableBytesView, as: UTF8.self)
    }

    /// A `subscription.events` notification's record count and `lost`.
    static func recordCounts(_ params: ByteBuffer) -> (records: Int, lost: Int) {
        guard let members = members(params) else { return (0, 0) }
        let records = members.first { $0.name == "records" }.flatMap { elements($0.text) }?.count ?? 0
        let lost = members.first { $0.name == "lost" }.flatMap { integer($0.text) } ?? 0
        return (records, lost)
    }
}

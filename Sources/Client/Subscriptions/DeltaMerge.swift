import NIOCore

/// Folds one delta-mode `subscription.map` notification into the next, as
/// if the node had coalesced them: the result sets what either set (the
/// later value winning) unless the later removed it, and removes what
/// either removed unless the later set it again. Keys are compared by their
/// JSON text, which the node writes the same way every time. The later
/// notification's other members (`seq`, `takenAt`) are kept, so the gap in
/// `seq` shows.
enum DeltaMerge {
    /// nil when either is not a delta notification (full mode: the later
    /// one already holds the whole map) or cannot be read.
    static func merge(_ earlier: ByteBuffer, into later: ByteBuffer) -> ByteBuffer? {
        guard let first = Delta(earlier), let second = Delta(later) else { return nil }

        let laterSet = Set(second.set.map(\.key))
        let laterRemoved = Set(second.removed.map(NotificationParams.text))
        var set = first.set.filter { !laterSet.contains($0.key) && !laterRemoved.contains($0.key) }.map(\.entry)
        set += second.set.map(\.entry)
        var removedKeys = Set<String>()
        var removed: [ByteBuffer] = []
        for key in first.removed + second.removed {
            let text = NotificationParams.text(key)
            if laterSet.contains(text) || !removedKeys.insert(text).inserted { continue }
            removed.append(key)
        }

        var merged = ByteBuffer()
        merged.writeStaticString("{")
        var wroteSet = false
        var wroteRemoved = false
        for (index, member) in second.members.enumerated() {
            if index > 0 { merged.writeStaticString(",") }
            merged.writeJSONString(member.name)
            merged.writeStaticString(":")
            switch member.name {
            case "set":
                writeArray(set, into: &merged)
                wroteSet = true
            case "removed":
                writeArray(removed, into: &merged)
                wroteRemoved = true
            default:
                var text = member.text
                merged.writeBuffer(&text)
            }
        }
        if !wroteSet {
            merged.writeStaticString(#","set":"#)
            writeArray(set, into: &merged)
        }
        if !wroteRemoved {
            merged.writeStaticString(#","removed":"#)
            writeArray(removed, into: &merged)
        }
        merged.writeStaticString("}")
        return merged
    }

    private static func writeArray(_ elements: [ByteBuffer], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("[")
        for (index, element) in elements.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            var element = element
            buffer.writeBuffer(&element)
        }
        buffer.writeStaticString("]")
    }

    /// A delta notification taken apart: its members, and its `set` entries
    /// with their keys' text.
    private struct Delta {
        var members: [(name: String, text: ByteBuffer)]
        var set: [(key: String, entry: ByteBuffer)]
        var removed: [ByteBuffer]

        init?(_ params: ByteBuffer) {
            guard let members = NotificationParams.members(params),
                  !members.contains(where: { $0.name == "entries" }) else { return nil }
            let setText = members.first { $0.name == "set" }?.text
            let removedText = members.first { $0.name == "removed" }?.text
            guard setText != nil || removedText != nil else { return nil }
            var set: [(String, ByteBuffer)] = []
            if let setText {
                guard let entries = NotificationParams.elements(setText) else { return nil }
                for entry in entries {
                    guard let key = NotificationParams.members(entry)?.first(where: { $0.name == "key" }) else { return nil }
                    set.append((NotificationParams.text(key.text), entry))
                }
            }
            var removed: [ByteBuffer] = []
            if let removedText {
                guard let keys = NotificationParams.elements(removedText) else { return nil }
                removed = keys
            }
            self.members = members
            self.set = set
            self.removed = removed
        }
    }
}

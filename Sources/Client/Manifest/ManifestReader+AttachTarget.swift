import BpfleetShared
import Yams

extension ManifestReader {
    /// An attach target: the mapping `probe attach` sends as `target`,
    /// decoded by the shared `AttachTarget` itself so a manifest takes
    /// exactly what the wire does. A field the target's type does not
    /// have is an error (the decoder would ignore it), and the decoder's
    /// complaints are put back on the YAML node they are about.
    func target(_ node: Node, at path: String) throws(ManifestError) -> AttachTarget {
        let example = "a mapping such as {type: tracepoint, category: sched, name: sched_process_exec}"
        let entries = try self.entries(node, at: path, what: example)
        let types = AttachTarget.allTypes
        guard let typeEntry = entries.first(where: { $0.key == "type" }), !Self.isNull(typeEntry.value) else {
            throw error(node, join(path, "type"), "missing: one of \(types.joined(separator: ", "))")
        }
        let type = try text(typeEntry.value, at: join(path, "type"), what: "a target type")
        guard let fields = AttachTarget.fieldNames(ofType: type) else {
            let hint = KeySuggestion.closest(to: type, among: types).map { "; did you mean '\($0)'?" }
                ?? " (one of: \(types.joined(separator: ", ")))"
            throw error(typeEntry.value, join(path, "type"), "unknown target type '\(type)'\(hint)")
        }
        var object: [String: JSONValue] = [:]
        for entry in entries {
            guard fields.contains(entry.key) else {
                let others = fields.filter { $0 != "type" }
                let hint = KeySuggestion.closest(to: entry.key, among: others).map { "; did you mean '\($0)'?" }
                    ?? (others.isEmpty ? " (it has no field but type)" : " (its fields: \(others.joined(separator: ", ")))")
                throw error(entry.keyNode, join(path, entry.key), "a target of type \(type) has no field '\(entry.key)'\(hint)")
            }
            object[entry.key] = try json(entry.value, at: join(path, entry.key))
        }
        do {
            return try JSONValueDecoder.decode(AttachTarget.self, from: .object(object))
        } catch let failure as DecodingError {
            throw located(failure, in: node, at: path, type: type)
        } catch {
            throw self.error(node, path, "not a valid target: \(error)")
        }
    }

    /// The decoder's error at the YAML node its coding path leads to.
    private func located(_ failure: DecodingError, in target: Node, at path: String, type: String) -> ManifestError {
        func node(at codingPath: [any CodingKey]) -> (Node, String) {
            var node = target
            var where_ = path
            for key in codingPath {
                guard case .mapping(let mapping) = node, let value = mapping[key.stringValue] else { break }
                node = value
                where_ = join(where_, key.stringValue)
            }
            return (node, where_)
        }
        switch failure {
        case .keyNotFound(let key, let context):
            let (mapping, where_) = node(at: context.codingPath)
            return error(mapping, join(where_, key.stringValue), "missing: a target of type \(type) needs it")
        case .typeMismatch(let expected, let context):
            let (value, where_) = node(at: context.codingPath)
            return error(value, where_, "expected \(Self.describe(expected)), got \(kind(value))")
        case .valueNotFound(let expected, let context):
            let (value, where_) = node(at: context.codingPath)
            return error(value, where_, "expected \(Self.describe(expected)), got \(kind(value))")
        case .dataCorrupted(let context):
            // A number the field's integer type cannot hold, or the type
            // tag AttachTarget does not know (checked above, so not here).
            let (value, where_) = node(at: context.codingPath)
            return error(value, where_, context.debugDescription)
        @unknown default:
            return error(target, path, "not a valid target: \(failure)")
        }
    }

    /// "a string", "a whole number from 0 to 4294967295", ...
    private static func describe(_ type: Any.Type) -> String {
        func range<T: FixedWidthInteger>(_: T.Type) -> String { "a whole number from \(T.min) to \(T.max)" }
        if type is String.Type { return "a string" }
        if type is Bool.Type { return "true or false" }
        if let integer = type as? any FixedWidthInteger.Type { return range(integer) }
        if type is any BinaryFloatingPoint.Type { return "a number" }
        return "\(type)"
    }
}

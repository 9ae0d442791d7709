import BpfleetShared

/// Object ids as people give them back: whole, or a unique prefix, as
/// `probe list` and `object list` show them (`sha256:5736d14217a9`), with
/// or without `sha256:` (git's and docker's habit). A prefix is resolved
/// on each node against the objects it holds (object.list).
enum ObjectIDPrefix {
    static let scheme = "sha256:"

    /// The hex digits of `text` when it is a prefix of an id (1 to 63
    /// after `sha256:`, or 6 to 63 alone); nil for a whole id or
    /// anything else, which goes to the node as it is.
    static func digits(of text: String) -> Substring? {
        let hex = text.hasPrefix(scheme) ? text.dropFirst(scheme.count) : Substring(text)
        let least = text.hasPrefix(scheme) ? 1 : 6
        guard hex.count >= least, hex.count < 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            return nil
        }
        return hex
    }

    /// The whole id `text` names on the node `connection` reaches.
    static func resolve(_ text: String, on connection: NodeConnection) async throws -> String {
        guard let hex = digits(of: text) else { return text }
        let prefix = scheme + hex
        let matches = try await MethodFailure.naming(ObjectList.method) {
            try await connection.call(ObjectList()).objects.map(\.objectId).filter { $0.hasPrefix(prefix) }.sorted()
        }
        switch matches.count {
        case 1:
            return matches[0]
        case 0:
            throw ResponseError(.notFound, "no object on this node has an id starting \(prefix)",
                                data: ["kind": "object", "prefix": .string(prefix)])
        default:
            throw ResponseError(.invalidParams, "\(prefix) is more than one object's id on this node: \(matches.joined(separator: ", ")) (give more of it)",
                                data: ["prefix": .string(prefix), "matches": .array(matches.map { .string($0) })])
        }
    }
}

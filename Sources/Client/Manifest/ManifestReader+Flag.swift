import Yams

extension ManifestReader {
    /// `true` or `false`.
    func flag(_ node: Node, at path: String) throws(ManifestError) -> Bool {
        guard Self.tagName(node) == .bool, let value = node.bool else {
            throw error(node, path, "expected true or false, got \(kind(node))")
        }
        return value
    }
}

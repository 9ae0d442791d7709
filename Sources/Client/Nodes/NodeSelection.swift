/// Nodes named somewhere other than the command line: a manifest's
/// `nodes: {selector: ..., names: [...]}`. `NodeTargets.resolve` uses it
/// only when the command line gave neither `-n` nor `--selector`.
///
/// The nodes are those the selector matches (from the config's and the
/// inventory's nodes, in file order), then each name not already among
/// them. A name is a node's name or an address, as for `-n`.
public struct NodeSelection: Sendable, Hashable {
    /// Kubernetes selector syntax, as for `--selector`.
    public var selector: String?
    public var names: [String]
    /// Where it was written, for messages: "manifest probe.yaml".
    public var origin: String

    public init(selector: String? = nil, names: [String] = [], origin: String) {
        self.selector = selector
        self.names = names
        self.origin = origin
    }

    /// Whether it names any node at all.
    public var isEmpty: Bool { selector == nil && names.isEmpty }
}

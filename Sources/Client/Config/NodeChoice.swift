/// What the command line says about nodes and how to reach them; each
/// flag, when given, overrides the config file.
public struct NodeChoice: Sendable {
    /// `-n`: config names or addresses.
    public var nodes: [String]
    /// `--selector`: the configured nodes whose labels match (Kubernetes
    /// selector syntax). Not together with `nodes`.
    public var selector: String?
    public var ca: String?
    public var cert: String?
    public var key: String?
    public var serverName: String?
    public var insecurePlaintext: Bool

    public init(nodes: [String] = [], selector: String? = nil, ca: String? = nil, cert: String? = nil, key: String? = nil,
                serverName: String? = nil, insecurePlaintext: Bool = false) {
        self.nodes = nodes
        self.selector = selector
        self.ca = ca
        self.cert = cert
        self.key = key
        self.serverName = serverName
        self.insecurePlaintext = insecurePlaintext
    }
}

/// A mistake in what was asked (flags, environment, config): no node is
/// contacted, and the command exits 64.
public struct UsageError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

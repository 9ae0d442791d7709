import BpfleetShared

/// The client's config file: named nodes with their addresses and TLS
/// credentials, and defaults for all of them, so that scripts need no
/// flags. Flags override it. docs/security.md describes the format.
///
/// ```yaml
/// defaults: {ca: ca.pem, cert: alice.pem, key: alice-key.pem, timeout: 10}
/// defaultNodes: [web-1]
/// nodes:
///   - name: web-1
///     address: tcp://10.0.0.5:7447
///     labels: {role: web}
/// ```
public struct ClientConfig: Sendable {
    /// Where it was read from, for messages.
    public var file: String
    public var defaults: NodeSettings
    /// Seconds per node, connect and call together.
    public var timeout: Double?
    public var concurrency: Int?
    /// The nodes a command runs on when neither -n nor $BPFLEET_NODE says:
    /// names from `nodes`, or addresses.
    public var defaultNodes: [Located<String>]
    public var nodes: [ConfiguredNode]

    public init(file: String, defaults: NodeSettings = NodeSettings(), timeout: Double? = nil, concurrency: Int? = nil,
                defaultNodes: [Located<String>] = [], nodes: [ConfiguredNode] = []) {
        self.file = file
        self.defaults = defaults
        self.timeout = timeout
        self.concurrency = concurrency
        self.defaultNodes = defaultNodes
        self.nodes = nodes
    }

    public func node(named name: String) -> ConfiguredNode? {
        nodes.first { $0.name == name }
    }

    /// The configured node at an address, when exactly one is there: a node
    /// given by address still gets its name and credentials.
    public func node(at address: NodeAddress) -> ConfiguredNode? {
        let matches = nodes.filter { $0.address == address }
        return matches.count == 1 ? matches[0] : nil
    }

    /// "config /home/alice/.config/bpfleet/config.yaml line 4"
    func origin(line: Int) -> String { "config \(file) line \(line)" }
}

/// Settings a node takes from the config: its own, else the defaults'.
public struct NodeSettings: Sendable, Hashable {
    public var ca: CredentialFile?
    public var cert: CredentialFile?
    public var key: CredentialFile?
    /// The name the node's certificate must carry, when it is not the
    /// address's host (an IP address, or a name behind a load balancer).
    public var serverName: String?
    /// Plain TCP to a loopback node; `insecurePlaintext: true` in the file.
    public var insecurePlaintext: Located<Bool>?

    public init(ca: CredentialFile? = nil, cert: CredentialFile? = nil, key: CredentialFile? = nil,
                serverName: String? = nil, insecurePlaintext: Located<Bool>? = nil) {
        self.ca = ca
        self.cert = cert
        self.key = key
        self.serverName = serverName
        self.insecurePlaintext = insecurePlaintext
    }
}

/// A node the config file names.
public struct ConfiguredNode: Sendable, Hashable {
    public var name: String
    public var address: NodeAddress
    /// Kept for selectors (`--selector role=web`), which come later.
    public var labels: [String: String]
    public var settings: NodeSettings
    /// The line of its entry, for messages.
    public var line: Int

    public init(name: String, address: NodeAddress, labels: [String: String] = [:], settings: NodeSettings = NodeSettings(), line: Int) {
        self.name = name
        self.address = address
        self.labels = labels
        self.settings = settings
        self.line = line
    }
}

/// A value from the config file with the line it is on.
public struct Located<Value: Sendable & Hashable>: Sendable, Hashable {
    public var value: Value
    public var line: Int

    public init(_ value: Value, line: Int) {
        self.value = value
        self.line = line
    }
}

import BpfleetShared

/// The client's config file: named nodes with their addresses and TLS
/// credentials, and defaults for all of them, so that scripts need no
/// flags. Flags override it. docs/security.md describes the format.
///
/// ```yaml
/// defaults: {ca: ca.pem, cert: alice.pem, key: alice-key.pem, timeout: 10}
/// defaultNodes: [web-1]          # or defaultSelector: "role=web"
/// inventory: fleet.yaml          # more nodes, from an inventory file
/// nodes:
///   - name: web-1
///     address: tcp://10.0.0.5:7447
///     labels: {role: web}
/// ```
///
/// Once loaded (`ConfigFile.load`), `nodes` also holds the inventory's
/// nodes, after the file's own.
public struct ClientConfig: Sendable {
    /// Where it was read from, for messages; empty when there is no config
    /// file and the nodes come from an inventory alone.
    public var file: String
    public var defaults: NodeSettings
    /// Seconds per call, from connected to the answer.
    public var timeout: Double?
    public var concurrency: Int?
    /// The nodes a command runs on when neither -n, --selector nor
    /// $BPFLEET_NODE says: names from `nodes`, or addresses.
    public var defaultNodes: [Located<String>]
    /// Instead of `defaultNodes`: the nodes whose labels match.
    public var defaultSelector: Located<String>?
    /// The `inventory:` key: an inventory file, its path resolved against
    /// this file's directory.
    public var inventory: Located<String>?
    /// The inventory whose nodes were added to `nodes`, if one was.
    public var inventoryFile: String?
    public var nodes: [ConfiguredNode]

    public init(file: String, defaults: NodeSettings = NodeSettings(), timeout: Double? = nil, concurrency: Int? = nil,
                defaultNodes: [Located<String>] = [], defaultSelector: Located<String>? = nil,
                inventory: Located<String>? = nil, nodes: [ConfiguredNode] = []) {
        self.file = file
        self.defaults = defaults
        self.timeout = timeout
        self.concurrency = concurrency
        self.defaultNodes = defaultNodes
        self.defaultSelector = defaultSelector
        self.inventory = inventory
        self.nodes = nodes
    }

    /// Adds an inventory's nodes after the file's own. A name in both is an
    /// error that names both places.
    public mutating func add(_ inventory: Inventory) throws(ConfigError) {
        var known: [String: ConfiguredNode] = [:]
        for node in nodes { known[node.name] = node }
        for node in inventory.nodes {
            if let first = known[node.name] {
                throw ConfigError(file: inventory.file, line: node.line,
                                  "node '\(node.name)' is also named at \(first.origin) line \(first.line): a name must be given once",
                                  document: "inventory")
            }
        }
        nodes += inventory.nodes
        inventoryFile = inventory.file
    }

    /// Where the nodes come from, for messages: "config A",
    /// "inventory B", "config A or inventory B".
    func nodeFiles(joinedBy conjunction: String) -> String {
        let files = (file.isEmpty ? [] : ["config \(file)"]) + (inventoryFile.map { ["inventory \($0)"] } ?? [])
        return files.isEmpty ? "no config file" : files.joined(separator: " \(conjunction) ")
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

/// A node the config file or an inventory names.
public struct ConfiguredNode: Sendable, Hashable {
    public var name: String
    public var address: NodeAddress
    /// What selectors (`--selector role=web`) match.
    public var labels: [String: String]
    /// Its own settings; for a node of an inventory, with the inventory's
    /// defaults filled in.
    public var settings: NodeSettings
    /// The line of its entry, for messages.
    public var line: Int
    /// The file of its entry, for messages: "config PATH" or "inventory PATH".
    public var origin: String

    public init(name: String, address: NodeAddress, labels: [String: String] = [:], settings: NodeSettings = NodeSettings(),
                line: Int, origin: String = "config") {
        self.name = name
        self.address = address
        self.labels = labels
        self.settings = settings
        self.line = line
        self.origin = origin
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

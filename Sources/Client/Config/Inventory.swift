import Foundation

/// An inventory: a YAML file of nodes in the config file's shape, so that
/// a fleet's list can live apart from anyone's credentials and be shared.
/// Its nodes join the config file's (`ClientConfig.add`).
///
/// ```yaml
/// defaults: {ca: pki/ca.pem, serverName: fleet.internal}   # for this file's nodes
/// nodes:
///   - {name: web-1, address: "tcp://10.0.0.5", labels: {role: web, zone: a}}
///   - {name: db-1, address: "tcp://10.0.0.9", labels: {role: db}, cert: db/alice.pem, key: db/alice-key.pem}
/// ```
///
/// Paths are relative to the inventory's directory. A node's settings come
/// from its entry, else the inventory's `defaults`, else the config file's
/// defaults; a certificate and its key always from the same place.
public struct Inventory: Sendable {
    public var file: String
    /// In file order, the inventory's defaults filled in.
    public var nodes: [ConfiguredNode]

    public init(file: String, nodes: [ConfiguredNode] = []) {
        self.file = file
        self.nodes = nodes
    }

    public init(yaml: String, file: String, home: String? = nil) throws(ConfigError) {
        let reader = ConfigReader(document: "inventory", file: file, home: home)
        self.init(file: file)
        guard let root = try reader.compose(yaml) else { return }
        let top = try reader.mapping(root, what: "the file", keys: ["defaults", "nodes"])
        var defaults = NodeSettings()
        if let node = top["defaults"] {
            defaults = try reader.settings(reader.mapping(node, what: "defaults",
                                                          keys: ["ca", "cert", "key", "serverName", "insecurePlaintext"]))
        }
        if let list = top["nodes"] {
            nodes = try reader.nodes(list).map { node in
                var node = node
                node.settings = node.settings.filled(from: defaults)
                return node
            }
        }
    }

    /// Reads and parses an inventory file; `namedBy` says where its path
    /// came from, for the message when it cannot be read.
    public static func load(_ path: String, namedBy: String, home: String?) throws(ConfigError) -> Inventory {
        switch TextFile.read(path) {
        case .success(let text):
            return try Inventory(yaml: text, file: path, home: home)
        case .failure(let reason):
            throw ConfigError(file: path, line: nil, "cannot read it (named by \(namedBy)): \(reason.text)", document: "inventory")
        }
    }
}

extension NodeSettings {
    /// These settings, with what they leave out taken from `defaults`; a
    /// certificate and its key only as a pair.
    func filled(from defaults: NodeSettings) -> NodeSettings {
        var settings = self
        settings.ca = ca ?? defaults.ca
        if cert == nil && key == nil {
            settings.cert = defaults.cert
            settings.key = defaults.key
        }
        settings.serverName = serverName ?? defaults.serverName
        settings.insecurePlaintext = insecurePlaintext ?? defaults.insecurePlaintext
        return settings
    }
}

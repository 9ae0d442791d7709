import BpfleetShared
import Foundation
import Yams

/// Reads YAML nodes into config values, turning every surprise into a
/// `ConfigError` that names the line. The config file and inventories
/// share it, so a node or a default reads the same in both.
struct ConfigReader {
    /// "config" or "inventory", for messages and credential origins.
    let document: String
    let file: String
    let directory: String
    let home: String?

    init(document: String, file: String, home: String?) {
        self.document = document
        self.file = file
        self.directory = (file as NSString).deletingLastPathComponent
        self.home = home
    }

    /// The document's top node, nil for an empty file.
    func compose(_ yaml: String) throws(ConfigError) -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch {
            throw syntaxError(error)
        }
    }

    func line(_ node: Node) -> Int { node.mark?.line ?? 0 }

    func error(_ node: Node, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, message, document: document)
    }

    func error(line: Int?, _ message: String) -> ConfigError {
        ConfigError(file: file, line: line, message, document: document)
    }

    /// "config /home/alice/.config/bpfleet/config.yaml line 4"
    func origin(line: Int) -> String { "\(document) \(file) line \(line)" }

    func syntaxError(_ error: any Error) -> ConfigError {
        switch error {
        case YamlError.scanner(let context, let problem, let mark, _),
             YamlError.parser(let context, let problem, let mark, _),
             YamlError.composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return self.error(line: mark.line, "not valid YAML: \(problem)\(while_)")
        case YamlError.duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return self.error(line: context.mark.line, "\(keys) given twice in the same mapping")
        case YamlError.reader(let problem, _, _, _):
            return self.error(line: nil, "not readable as YAML: \(problem)")
        default:
            return self.error(line: nil, "not valid YAML: \(error)")
        }
    }

    /// A mapping whose keys are all among `keys`, by key.
    func mapping(_ node: Node, what: String, keys: [String]) throws(ConfigError) -> [String: Node] {
        guard case .mapping(let mapping) = node else {
            throw error(node, "\(what) must be a mapping (key: value lines)")
        }
        var entries: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string, case .scalar = key else { throw error(key, "a key in \(what) must be a word") }
            guard keys.contains(name) else {
                throw error(key, "unknown key '\(name)' in \(what) (known: \(keys.joined(separator: ", ")))")
            }
            entries[name] = value
        }
        return entries
    }

    func sequence(_ node: Node, what: String) throws(ConfigError) -> [Node] {
        guard case .sequence(let sequence) = node else {
            throw error(node, "\(what) must be a list (lines starting with '- ', or [a, b])")
        }
        return Array(sequence)
    }

    func string(_ node: Node, what: String) throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            throw error(node, "\(what) must be a non-empty string")
        }
        return scalar.string
    }

    func bool(_ node: Node, what: String) throws(ConfigError) -> Bool {
        guard case .scalar = node, let value = node.bool else { throw error(node, "\(what) must be true or false") }
        return value
    }

    /// A path: `~/` is the home directory; a relative path is relative to
    /// the file it is written in, so a file and what it names move together.
    func path(_ node: Node, key: String) throws(ConfigError) -> String {
        let path = try string(node, what: key)
        if path == "~" || path.hasPrefix("~/"), let home {
            return home + path.dropFirst()
        } else if !path.hasPrefix("/") {
            return (directory.isEmpty ? "." : directory) + "/" + path
        }
        return path
    }

    func file(_ node: Node, key: String) throws(ConfigError) -> CredentialFile {
        CredentialFile(path: try path(node, key: key), origin: origin(line: line(node)))
    }

    /// ca, cert, key, serverName and insecurePlaintext, where present.
    func settings(_ entries: [String: Node]) throws(ConfigError) -> NodeSettings {
        var settings = NodeSettings()
        if let node = entries["ca"] { settings.ca = try file(node, key: "ca") }
        if let node = entries["cert"] { settings.cert = try file(node, key: "cert") }
        if let node = entries["key"] { settings.key = try file(node, key: "key") }
        if let node = entries["serverName"] { settings.serverName = try string(node, what: "serverName") }
        if let node = entries["insecurePlaintext"] {
            settings.insecurePlaintext = Located(try bool(node, what: "insecurePlaintext"), line: line(node))
        }
        switch (entries["cert"], entries["key"]) {
        case (.some(let cert), nil):
            throw error(cert, "cert without key: a certificate and its key go together")
        case (nil, .some(let key)):
            throw error(key, "key without cert: a certificate and its key go together")
        default:
            return settings
        }
    }

    /// The keys a node entry may have.
    static let nodeKeys = ["name", "address", "labels", "ca", "cert", "key", "serverName", "insecurePlaintext"]

    func node(_ node: Node) throws(ConfigError) -> ConfiguredNode {
        let entries = try mapping(node, what: "a node", keys: Self.nodeKeys)
        guard let nameNode = entries["name"] else { throw error(node, "a node needs a name") }
        let name = try string(nameNode, what: "name")
        guard !name.contains(where: { $0 == "," || $0.isWhitespace }),
              !name.hasPrefix("/"), !name.hasPrefix("unix:"), !name.hasPrefix("tcp://") else {
            throw error(nameNode, "node name '\(name)' must not contain spaces or commas, nor look like an address")
        }
        guard let addressNode = entries["address"] else { throw error(node, "node '\(name)' needs an address") }
        let address: NodeAddress
        do {
            address = try NodeAddress(parsing: try string(addressNode, what: "address"))
        } catch let failure as ConfigError {
            throw failure
        } catch {
            throw self.error(addressNode, "\(error)")
        }
        var labels: [String: String] = [:]
        if let labelsNode = entries["labels"] {
            guard case .mapping(let mapping) = labelsNode else {
                throw error(labelsNode, "labels must be a mapping (key: value)")
            }
            for (key, value) in mapping {
                let label = try string(key, what: "a label name")
                // Kubernetes' rules, so that a selector can name every label.
                if let problem = LabelRules.problem(key: label) { throw error(key, problem) }
                let text = try string(value, what: "label '\(label)'")
                if let problem = LabelRules.problem(value: text) { throw error(value, "label '\(label)': \(problem)") }
                labels[label] = text
            }
        }
        return ConfiguredNode(name: name, address: address, labels: labels, settings: try settings(entries), line: line(node),
                              origin: "\(document) \(file)")
    }

    /// The nodes of a `nodes:` list, each name once.
    func nodes(_ list: Node) throws(ConfigError) -> [ConfiguredNode] {
        var nodes: [ConfiguredNode] = []
        var seen: [String: Int] = [:]
        for entry in try sequence(list, what: "nodes") {
            let node = try self.node(entry)
            if let first = seen[node.name] {
                throw error(line: node.line, "a second node named '\(node.name)' (the first is at line \(first))")
            }
            seen[node.name] = node.line
            nodes.append(node)
        }
        return nodes
    }

    /// A selector, checked now so that its mistake names this file's line.
    func selector(_ node: Node, key: String) throws(ConfigError) -> Located<String> {
        let text = try string(node, what: key)
        do {
            _ = try LabelSelector(parsing: text)
        } catch {
            throw self.error(node, "\(key) '\(text)': \(error)")
        }
        return Located(text, line: line(node))
    }
}

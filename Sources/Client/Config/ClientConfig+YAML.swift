import BpfleetShared
import Foundation
import Yams

extension ClientConfig {
    /// Parses the config file's text. Every mistake is reported with its
    /// line: YAML that does not parse, a key this client does not know (a
    /// typo would otherwise be silently ignored), a value of the wrong kind.
    /// Relative paths are relative to the file's directory; `~/` is `home`.
    public init(yaml: String, file: String, home: String? = nil) throws(ConfigError) {
        let reader = ConfigReader(file: file, directory: (file as NSString).deletingLastPathComponent, home: home)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw reader.syntaxError(error)
        }
        self.init(file: file)
        guard let root else { return }  // an empty file: no settings
        let top = try reader.mapping(root, what: "the file", keys: ["defaults", "defaultNodes", "nodes"])
        if let defaults = top["defaults"] {
            let entries = try reader.mapping(defaults, what: "defaults",
                                             keys: ["ca", "cert", "key", "timeout", "concurrency", "insecurePlaintext"])
            self.defaults = try reader.settings(entries)
            if let timeout = entries["timeout"] {
                guard let seconds = timeout.float, seconds > 0, seconds.isFinite else {
                    throw reader.error(timeout, "timeout must be a positive number of seconds")
                }
                self.timeout = seconds
            }
            if let concurrency = entries["concurrency"] {
                guard let count = concurrency.int, count >= 1 else {
                    throw reader.error(concurrency, "concurrency must be a whole number, at least 1")
                }
                self.concurrency = count
            }
        }
        if let nodes = top["nodes"] {
            for entry in try reader.sequence(nodes, what: "nodes") {
                self.nodes.append(try reader.node(entry))
            }
            var seen: [String: Int] = [:]
            for node in self.nodes {
                if let first = seen[node.name] {
                    throw ConfigError(file: file, line: node.line, "a second node named '\(node.name)' (the first is at line \(first))")
                }
                seen[node.name] = node.line
            }
        }
        if let defaultNodes = top["defaultNodes"] {
            for entry in try reader.sequence(defaultNodes, what: "defaultNodes") {
                self.defaultNodes.append(Located(try reader.string(entry, what: "a defaultNodes entry"), line: reader.line(entry)))
            }
            for entry in self.defaultNodes where node(named: entry.value) == nil {
                if (try? NodeAddress(parsing: entry.value)) == nil {
                    throw ConfigError(file: file, line: entry.line,
                                      "defaultNodes names '\(entry.value)', which is neither a node in this file nor an address")
                }
            }
        }
    }
}

/// Reads YAML nodes into config values, turning every surprise into a
/// `ConfigError` that names the line.
private struct ConfigReader {
    let file: String
    let directory: String
    let home: String?

    func line(_ node: Node) -> Int { node.mark?.line ?? 0 }

    func error(_ node: Node, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, message)
    }

    func syntaxError(_ error: any Error) -> ConfigError {
        switch error {
        case YamlError.scanner(let context, let problem, let mark, _),
             YamlError.parser(let context, let problem, let mark, _),
             YamlError.composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return ConfigError(file: file, line: mark.line, "not valid YAML: \(problem)\(while_)")
        case YamlError.duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return ConfigError(file: file, line: context.mark.line, "\(keys) given twice in the same mapping")
        case YamlError.reader(let problem, _, _, _):
            return ConfigError(file: file, line: nil, "not readable as YAML: \(problem)")
        default:
            return ConfigError(file: file, line: nil, "not valid YAML: \(error)")
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

    /// A file path: `~/` is the home directory; a relative path is relative
    /// to the config file, so a config and its certificates move together.
    func file(_ node: Node, key: String) throws(ConfigError) -> CredentialFile {
        var path = try string(node, what: key)
        if path == "~" || path.hasPrefix("~/"), let home {
            path = home + path.dropFirst()
        } else if !path.hasPrefix("/") {
            path = (directory.isEmpty ? "." : directory) + "/" + path
        }
        return CredentialFile(path: path, origin: "config \(file) line \(line(node))")
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

    func node(_ node: Node) throws(ConfigError) -> ConfiguredNode {
        let entries = try mapping(node, what: "a node", keys: [
            "name", "address", "labels", "ca", "cert", "key", "serverName", "insecurePlaintext",
        ])
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
                labels[try string(key, what: "a label name")] = try string(value, what: "label '\(key.string ?? "")'")
            }
        }
        return ConfiguredNode(name: name, address: address, labels: labels, settings: try settings(entries), line: line(node))
    }
}

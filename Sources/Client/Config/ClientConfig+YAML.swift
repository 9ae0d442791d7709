import BpfleetShared
import Foundation
import Yams

extension ClientConfig {
    /// Parses the config file's text. Every mistake is reported with its
    /// line: YAML that does not parse, a key this client does not know (a
    /// typo would otherwise be silently ignored), a value of the wrong kind.
    /// Relative paths are relative to the file's directory; `~/` is `home`.
    ///
    /// The inventory the file names is not read here (`ConfigFile.load`
    /// does), and `defaultNodes` is checked against the nodes once the
    /// inventory's have joined them (`checkDefaultNodes`).
    public init(yaml: String, file: String, home: String? = nil) throws(ConfigError) {
        let reader = ConfigReader(document: "config", file: file, home: home)
        self.init(file: file)
        guard let root = try reader.compose(yaml) else { return }  // an empty file: no settings
        let top = try reader.mapping(root, what: "the file",
                                     keys: ["defaults", "defaultNodes", "defaultSelector", "inventory", "nodes"])
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
            self.nodes = try reader.nodes(nodes)
        }
        if let inventory = top["inventory"] {
            self.inventory = Located(try reader.path(inventory, key: "inventory"), line: reader.line(inventory))
        }
        if let defaultNodes = top["defaultNodes"] {
            for entry in try reader.sequence(defaultNodes, what: "defaultNodes") {
                self.defaultNodes.append(Located(try reader.string(entry, what: "a defaultNodes entry"), line: reader.line(entry)))
            }
        }
        if let defaultSelector = top["defaultSelector"] {
            if let defaultNodes = top["defaultNodes"] {
                throw reader.error(defaultSelector,
                                   "defaultSelector and defaultNodes (line \(reader.line(defaultNodes))) both say which nodes to use: keep one")
            }
            self.defaultSelector = try reader.selector(defaultSelector, key: "defaultSelector")
        }
    }

    /// Every `defaultNodes` entry is a node of the config or the inventory,
    /// or an address: a typo is found before any node is asked.
    public func checkDefaultNodes() throws(ConfigError) {
        for entry in defaultNodes where node(named: entry.value) == nil {
            if (try? NodeAddress(parsing: entry.value)) == nil {
                let places = inventoryFile.map { "this file or inventory \($0)" } ?? "this file"
                throw ConfigError(file: file, line: entry.line,
                                  "defaultNodes names '\(entry.value)', which is neither a node in \(places) nor an address")
            }
        }
    }
}

import BpfleetShared

/// Turns what was asked into the nodes to talk to and how: which nodes,
/// and for each tcp:// node its TLS credentials (flag, else the node's
/// entry, else the config's defaults) or explicit plaintext.
///
/// Which nodes: the first of
/// 1. `-n` (`choice.nodes`) or `--selector` (`choice.selector`), never both;
/// 2. `selection` (a manifest's `nodes:`);
/// 3. `$BPFLEET_NODE`;
/// 4. the config's `defaultSelector` or `defaultNodes`;
/// 5. the local socket.
///
/// A selector picks from the config's and the inventory's nodes, in file
/// order; one that does not parse, or matches no node, is a usage error.
public enum NodeTargets {
    public static func resolve(_ choice: NodeChoice, selection: NodeSelection? = nil, config: ClientConfig?,
                               environment: [String: String]) throws(UsageError) -> [NodeTarget] {
        var loaded: [CredentialKey: TLSCredentials] = [:]
        var targets: [NodeTarget] = []
        // By name, once: a selector over an inventory of thousands looks
        // each of its nodes up.
        let named = Dictionary((config?.nodes ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (text, source) in try requested(choice, selection: selection, config: config, environment: environment) {
            var target = try lookUp(text, source: source, named: named, config: config)
            if case .tcp = target.address {
                let configured = target.name.flatMap { named[$0] }
                target.security = try security(for: target, configured: configured, choice: choice, config: config, loaded: &loaded)
            }
            targets.append(target)
        }
        return targets
    }

    /// The node texts and where they came from, for messages.
    private static func requested(_ choice: NodeChoice, selection: NodeSelection?, config: ClientConfig?,
                                  environment: [String: String]) throws(UsageError) -> [(String, String)] {
        if !choice.nodes.isEmpty, let selector = choice.selector {
            throw UsageError("-n and --selector '\(selector)' both say which nodes: give one")
        }
        if !choice.nodes.isEmpty { return choice.nodes.map { ($0, "-n") } }
        if let selector = choice.selector {
            return try matching(selector, source: "--selector", config: config).map { ($0, "--selector") }
        }
        if let selection, !selection.isEmpty {
            var names: [String] = []
            if let selector = selection.selector {
                names = try matching(selector, source: "\(selection.origin) selector", config: config)
            }
            let selected = Set(names)
            names += selection.names.filter { !selected.contains($0) }
            return names.map { ($0, selection.origin) }
        }
        if let listed = environment["BPFLEET_NODE"] {
            let texts = listed.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            if !texts.isEmpty { return texts.map { ($0, "BPFLEET_NODE") } }
        }
        if let config, let selector = config.defaultSelector {
            let source = "defaultSelector (\(config.origin(line: selector.line)))"
            return try matching(selector.value, source: source, config: config).map { ($0, source) }
        }
        if let config, !config.defaultNodes.isEmpty {
            return config.defaultNodes.map { ($0.value, "defaultNodes (\(config.origin(line: $0.line)))") }
        }
        return [("unix:" + NodeAddress.defaultUnixPath, "default")]
    }

    /// The names of the configured nodes a selector matches, in file order.
    private static func matching(_ text: String, source: String, config: ClientConfig?) throws(UsageError) -> [String] {
        let selector: LabelSelector
        do {
            selector = try LabelSelector(parsing: text)
        } catch {
            throw UsageError("\(source): \(error)\n\(error.pointer())")
        }
        let nodes = config?.nodes ?? []
        let names = nodes.filter { selector.matches($0.labels) }.map(\.name)
        guard !names.isEmpty else {
            guard let config, !nodes.isEmpty else {
                throw UsageError("no node matches \(source) '\(text)': no inventory or config file names any node (give --inventory FILE; see docs/cli.md)")
            }
            throw UsageError("no node matches \(source) '\(text)' among the \(nodes.count) nodes of \(config.nodeFiles(joinedBy: "and"))")
        }
        return names
    }

    /// A config name, else an address (which picks up the name and
    /// settings of the configured node there, if one is).
    private static func lookUp(_ text: String, source: String, named: [String: ConfiguredNode],
                               config: ClientConfig?) throws(UsageError) -> NodeTarget {
        if let node = named[text] {
            return NodeTarget(address: node.address, name: node.name)
        }
        let address: NodeAddress
        do {
            address = try NodeAddress(parsing: text)
        } catch {
            if let config {
                throw UsageError("\(source) \(text): no node named '\(text)' in \(config.nodeFiles(joinedBy: "or")), and not an address (unix:/PATH or tcp://HOST[:PORT])")
            }
            throw UsageError("\(source) \(text): \(error) (or a node name, once a config file names nodes: see docs/security.md)")
        }
        return NodeTarget(address: address, name: config?.node(at: address)?.name)
    }

    private static func security(for target: NodeTarget, configured: ConfiguredNode?, choice: NodeChoice, config: ClientConfig?,
                                 loaded: inout [CredentialKey: TLSCredentials]) throws(UsageError) -> TCPSecurity {
        let node = configured?.settings ?? NodeSettings()
        let defaults = config?.defaults ?? NodeSettings()

        let plaintext: (asked: Bool, by: String)
        if choice.insecurePlaintext {
            plaintext = (true, "--insecure-plaintext")
        } else if let setting = node.insecurePlaintext, let configured {
            plaintext = (setting.value, "insecurePlaintext (\(configured.origin) line \(setting.line))")
        } else if let setting = defaults.insecurePlaintext, let config {
            plaintext = (setting.value, "insecurePlaintext (\(config.origin(line: setting.line)))")
        } else {
            plaintext = (false, "")
        }
        if plaintext.asked {
            guard target.address.isLoopback else {
                throw UsageError("\(plaintext.by) reaches only loopback addresses, and node \(Self.named(target)) is not on one: use TLS (--ca, --cert, --key)")
            }
            return .insecurePlaintext
        }

        let ca = choice.ca.map { CredentialFile(path: $0, origin: "--ca") } ?? node.ca ?? defaults.ca
        // A certificate and its key are taken together, from the first place
        // that names either: flags, the node's entry, the defaults.
        let pair: (cert: CredentialFile?, key: CredentialFile?)
        if choice.cert != nil || choice.key != nil {
            pair = (choice.cert.map { CredentialFile(path: $0, origin: "--cert") }, choice.key.map { CredentialFile(path: $0, origin: "--key") })
        } else if node.cert != nil || node.key != nil {
            pair = (node.cert, node.key)
        } else {
            pair = (defaults.cert, defaults.key)
        }
        guard let ca else {
            let hint = pair.cert == nil ? "--ca FILE --cert FILE --key FILE" : "--ca FILE (the CA that signed the node's certificate)"
            throw UsageError("node \(Self.named(target)) needs TLS: give \(hint), or ca/cert/key in the config file (see docs/security.md); plain TCP only with --insecure-plaintext, to a loopback address")
        }
        let key = CredentialKey(ca: ca.path, cert: pair.cert?.path, key: pair.key?.path)
        if loaded[key] == nil {
            do {
                loaded[key] = try TLSCredentials.load(authority: ca, certificate: pair.cert, key: pair.key)
            } catch {
                throw UsageError(error.description)
            }
        }
        return .tls(loaded[key]!, serverName: choice.serverName ?? node.serverName)
    }

    /// "web-1 (tcp://10.0.0.5:7447)" or "tcp://10.0.0.5:7447"
    private static func named(_ target: NodeTarget) -> String {
        target.name.map { "\($0) (\(target.address))" } ?? target.address.description
    }

    /// Files that were loaded once are not loaded again for the next node.
    private struct CredentialKey: Hashable {
        var ca: String
        var cert: String?
        var key: String?
    }
}

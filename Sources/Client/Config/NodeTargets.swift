import BpfleetShared

/// Turns what was asked into the nodes to talk to and how: which nodes
/// (`-n`, else `$BPFLEET_NODE`, else the config's `defaultNodes`, else the
/// local socket), and for each tcp:// node its TLS credentials (flag, else
/// the node's entry, else the config's defaults) or explicit plaintext.
public enum NodeTargets {
    public static func resolve(_ choice: NodeChoice, config: ClientConfig?,
                               environment: [String: String]) throws(UsageError) -> [NodeTarget] {
        var loaded: [CredentialKey: TLSCredentials] = [:]
        var targets: [NodeTarget] = []
        for (text, source) in try requested(choice, config: config, environment: environment) {
            var target = try lookUp(text, source: source, config: config)
            if case .tcp = target.address {
                let configured = target.name.flatMap { config?.node(named: $0) }
                target.security = try security(for: target, configured: configured, choice: choice, config: config, loaded: &loaded)
            }
            targets.append(target)
        }
        return targets
    }

    /// The node texts and where they came from, for messages.
    private static func requested(_ choice: NodeChoice, config: ClientConfig?,
                                  environment: [String: String]) throws(UsageError) -> [(String, String)] {
        if !choice.nodes.isEmpty { return choice.nodes.map { ($0, "-n") } }
        if let listed = environment["BPFLEET_NODE"] {
            let texts = listed.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            if !texts.isEmpty { return texts.map { ($0, "BPFLEET_NODE") } }
        }
        if let config, !config.defaultNodes.isEmpty {
            return config.defaultNodes.map { ($0.value, "defaultNodes (\(config.origin(line: $0.line)))") }
        }
        return [("unix:" + NodeAddress.defaultUnixPath, "default")]
    }

    /// A config name, else an address (which picks up the name and
    /// settings of the configured node there, if one is).
    private static func lookUp(_ text: String, source: String, config: ClientConfig?) throws(UsageError) -> NodeTarget {
        if let node = config?.node(named: text) {
            return NodeTarget(address: node.address, name: node.name)
        }
        let address: NodeAddress
        do {
            address = try NodeAddress(parsing: text)
        } catch {
            if let config {
                throw UsageError("\(source) \(text): no node named '\(text)' in config \(config.file), and not an address (unix:/PATH or tcp://HOST[:PORT])")
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
        } else if let setting = node.insecurePlaintext ?? defaults.insecurePlaintext, let config {
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

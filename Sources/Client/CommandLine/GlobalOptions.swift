import ArgumentParser
import BpfleetShared
import Foundation

/// Options every command takes: which nodes and how to reach them, how to
/// print, how long to wait. Any of them overrides the config file.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: [.customShort("n"), .customLong("node")],
        help: ArgumentHelp(
            """
            A node: a name from the config file or the inventory, unix:/PATH or tcp://HOST[:PORT]. Repeat for several. \
            Default: --selector, else $BPFLEET_NODE, else the config's defaultSelector or defaultNodes, \
            else unix:\(NodeAddress.defaultUnixPath).
            """,
            valueName: "node"))
    var node: [String] = []

    @Option(name: [.customShort("l"), .customLong("selector")], help: ArgumentHelp(
        "The nodes of the config file and the inventory whose labels match, e.g. 'role=web,zone notin (b,c)' (Kubernetes syntax). Not with -n.",
        valueName: "expr"))
    var selector: String?

    @Option(name: .customLong("inventory"), help: ArgumentHelp(
        "An inventory file of nodes (default: $BPFLEET_INVENTORY, else the config's inventory).", valueName: "file"))
    var inventory: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output: table or wide (for people), json, ndjson or yaml.")
    var output: OutputFormat = .table

    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp(
        "How long each attempt to connect to a node may take, TLS handshake included (default: 5).", valueName: "seconds"))
    var connectTimeout: Double?

    @Option(help: ArgumentHelp("How long each node may take to answer once connected (default: the config's, else 10).", valueName: "seconds"))
    var timeout: Double?

    @Option(help: ArgumentHelp(
        "How many times to try connecting again after a transient failure (refused, reset, timed out, unreachable) (default: \(FanOut.defaultRetries)).",
        valueName: "n"))
    var retries: Int?

    @Option(help: ArgumentHelp("How many nodes to talk to at once (default: the config's, else \(FanOut.defaultConcurrency)).", valueName: "n"))
    var concurrency: Int?

    @Flag(help: "When the verifier rejects a program, print its full log (from the error's data).")
    var verifierLog = false

    @Option(name: .customLong("ca"), help: ArgumentHelp(
        "TLS: the CA certificate (PEM) that node certificates must chain to; nothing else is trusted.", valueName: "file"))
    var ca: String?

    @Option(name: .customLong("cert"), help: ArgumentHelp("TLS: this client's certificate (PEM), for mutual TLS.", valueName: "file"))
    var cert: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("TLS: the private key (PEM) of --cert (for sign: the signing key).", valueName: "file"))
    var key: String?

    @Option(name: .customLong("server-name"), help: ArgumentHelp(
        "TLS: the name the node's certificate must carry, when it is not the address's host.", valueName: "name"))
    var serverName: String?

    @Flag(name: .customLong("insecure-plaintext"), help: "Plain TCP, no TLS: only to a loopback address whose bpfleetd was started with --insecure-plaintext.")
    var insecurePlaintext = false

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "The config file (default: $BPFLEET_CONFIG, else ~/.config/bpfleet/config.yaml if it exists).", valueName: "file"))
    var config: String?

    func validate() throws {
        if let timeout {
            guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
        }
        if let connectTimeout {
            guard connectTimeout > 0, connectTimeout.isFinite else {
                throw ValidationError("--connect-timeout must be a positive number of seconds")
            }
        }
        if let retries {
            guard (0...100).contains(retries) else { throw ValidationError("--retries must be 0 to 100") }
        }
        if !node.isEmpty, selector != nil {
            throw ValidationError("-n and --selector both say which nodes: give one")
        }
        if let concurrency {
            guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        }
        if cert != nil, key == nil {
            throw ValidationError(Self.credentialsApart)
        }
    }

    /// A --key without --cert is refused when nodes are asked (`plan`),
    /// not while parsing: `bpfleet sign FILE --key KEY` names a signing key
    /// with the same flag, and the options declared on the root command
    /// read it too.
    static let credentialsApart = "--cert and --key go together: a certificate and its private key"

    /// What a command runs on, once the config file is read.
    struct Plan {
        var targets: [NodeTarget]
        var fanOut: FanOut
    }

    /// Reads the config file and the inventory and resolves the nodes and
    /// their credentials: `selection` (a manifest's nodes) is used when
    /// neither -n nor --selector was given. Every mistake (a config that
    /// does not parse, an unknown node name, a selector that matches
    /// nothing, a tcp:// node without TLS credentials, an unreadable
    /// certificate) is a `UsageError` that names what to fix.
    func plan(selection: NodeSelection? = nil,
              environment: [String: String] = ProcessInfo.processInfo.environment) throws(UsageError) -> Plan {
        if key != nil, cert == nil { throw UsageError(Self.credentialsApart) }
        let file: ClientConfig?
        do {
            file = try ConfigFile.load(flag: config, inventory: inventory, environment: environment)
        } catch {
            throw UsageError(error.description)
        }
        let choice = NodeChoice(nodes: node, selector: selector, ca: ca, cert: cert, key: key, serverName: serverName,
                                insecurePlaintext: insecurePlaintext)
        let targets = try NodeTargets.resolve(choice, selection: selection, config: file, environment: environment)
        let fanOut = FanOut(concurrency: concurrency ?? file?.concurrency ?? FanOut.defaultConcurrency,
                            connectTimeout: connectTimeout.map(Self.duration) ?? FanOut.defaultConnectTimeout,
                            timeout: (timeout ?? file?.timeout).map(Self.duration) ?? FanOut.defaultTimeout,
                            retries: retries ?? FanOut.defaultRetries)
        return Plan(targets: targets, fanOut: fanOut)
    }

    /// Seconds as a `Duration`, to the millisecond, rounded up.
    private static func duration(_ seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}

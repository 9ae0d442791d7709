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
            A node: a name from the config file, unix:/PATH or tcp://HOST[:PORT]. Repeat for several. \
            Default: $BPFLEET_NODE, else the config's defaultNodes, else unix:\(NodeAddress.defaultUnixPath).
            """,
            valueName: "node"))
    var node: [String] = []

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output: table (for people), json or ndjson.")
    var output: OutputFormat = .table

    @Option(help: ArgumentHelp("How long to wait for each node, connect and call together (default: the config's, else 10).", valueName: "seconds"))
    var timeout: Double?

    @Option(help: ArgumentHelp("How many nodes to talk to at once (default: the config's, else \(FanOut.defaultConcurrency)).", valueName: "n"))
    var concurrency: Int?

    @Flag(help: "When the verifier rejects a program, print its full log (from the error's data).")
    var verifierLog = false

    @Option(name: .customLong("ca"), help: ArgumentHelp(
        "TLS: the CA certificate (PEM) that node certificates must chain to; nothing else is trusted.", valueName: "file"))
    var ca: String?

    @Option(name: .customLong("cert"), help: ArgumentHelp("TLS: this client's certificate (PEM), for mutual TLS.", valueName: "file"))
    var cert: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("TLS: the private key (PEM) of --cert.", valueName: "file"))
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
        if let concurrency {
            guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        }
        if (cert == nil) != (key == nil) {
            throw ValidationError("--cert and --key go together: a certificate and its private key")
        }
    }

    /// What a command runs on, once the config file is read.
    struct Plan {
        var targets: [NodeTarget]
        var fanOut: FanOut
    }

    /// Reads the config file and resolves the nodes and their credentials.
    /// Every mistake (a config that does not parse, an unknown node name, a
    /// tcp:// node without TLS credentials, an unreadable certificate) is a
    /// `UsageError` that names what to fix.
    func plan(environment: [String: String] = ProcessInfo.processInfo.environment) throws(UsageError) -> Plan {
        let file: ClientConfig?
        do {
            file = try ConfigFile.load(flag: config, environment: environment)
        } catch {
            throw UsageError(error.description)
        }
        let choice = NodeChoice(nodes: node, ca: ca, cert: cert, key: key, serverName: serverName, insecurePlaintext: insecurePlaintext)
        let targets = try NodeTargets.resolve(choice, config: file, environment: environment)
        let seconds = timeout ?? file?.timeout ?? 10
        let fanOut = FanOut(concurrency: concurrency ?? file?.concurrency ?? FanOut.defaultConcurrency,
                            timeout: .milliseconds(Int64((seconds * 1000).rounded(.up))))
        return Plan(targets: targets, fanOut: fanOut)
    }
}

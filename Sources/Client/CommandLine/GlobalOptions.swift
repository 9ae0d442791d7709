import ArgumentParser
import BpfleetShared
import Foundation

/// Options every command takes: which nodes, how to print, how long to wait.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: [.customShort("n"), .customLong("node")],
        help: ArgumentHelp(
            "A node: unix:/PATH or tcp://HOST[:PORT]. Repeat for several. Default: $BPFLEET_NODE, else unix:\(NodeAddress.defaultUnixPath).",
            valueName: "address"),
        transform: { try NodeAddress(parsing: $0) })
    var node: [NodeAddress] = []

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output: table (for people), json or ndjson.")
    var output: OutputFormat = .table

    @Option(help: ArgumentHelp("How long to wait for each node, connect and call together.", valueName: "seconds"))
    var timeout: Double = 10

    @Option(help: "How many nodes to talk to at once.")
    var concurrency: Int = FanOut.defaultConcurrency

    @Flag(help: "When the verifier rejects a program, print its full log (from the error's data).")
    var verifierLog = false

    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        _ = try nodes()
    }

    /// The nodes asked for: `-n` flags, else `$BPFLEET_NODE` (addresses
    /// separated by commas or spaces), else the local default socket.
    func nodes(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [NodeAddress] {
        if !node.isEmpty { return node }
        if let listed = environment["BPFLEET_NODE"] {
            let texts = listed.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            if !texts.isEmpty {
                return try texts.map { text in
                    do {
                        return try NodeAddress(parsing: text)
                    } catch {
                        throw ValidationError("BPFLEET_NODE: \(error)")
                    }
                }
            }
        }
        return [.unix(path: NodeAddress.defaultUnixPath)]
    }

    var timeoutDuration: Duration { .milliseconds(Int64((timeout * 1000).rounded(.up))) }

    var fanOut: FanOut { FanOut(concurrency: concurrency, timeout: timeoutDuration) }
}

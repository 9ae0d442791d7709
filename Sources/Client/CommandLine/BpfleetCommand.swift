import ArgumentParser
import BpfleetShared
import Foundation

/// `bpfleet`: the command line. Subcommands are grouped by noun.
public struct BpfleetCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bpfleet",
        abstract: "Drive bpfleetd on one node or many: upload BPF objects, load and attach probes, read their maps.",
        discussion: """
            Every command runs on each node given with -n, or chosen with --selector from an inventory \
            (concurrently, bounded by --concurrency; connecting within --connect-timeout, retried \
            --retries times; answering within --timeout) and exits 0 when every node succeeded, \
            1 when none did, 2 when some did, 64 on a usage error. \
            tcp:// nodes are reached over TLS 1.3 with --ca, --cert and --key; a config file \
            (~/.config/bpfleet/config.yaml) can name nodes and their credentials instead.
            """,
        version: "bpfleet \(BpfleetVersion.current) (protocol \(ProtocolV1.version))",
        subcommands: [VersionCommand.self, NodeCommand.self, ObjectCommand.self, ProbeCommand.self, MapCommand.self, EventsCommand.self, IterCommand.self,
                       ApplyCommand.self, DiffCommand.self, StatusCommand.self, DeleteCommand.self, VerifyCommand.self, CallCommand.self, CertCommand.self, KeygenCommand.self, SignCommand.self, ProtocolCommand.self,
                       MetricsCommand.self])

    /// Declared here as well as in each command so that the options may come
    /// before the command (`bpfleet -n NODE probe list`) or after it;
    /// ArgumentParser fills both from either place.
    @OptionGroup var options: GlobalOptions

    public init() {}

    /// Parses the process's arguments and runs the command they name, then
    /// exits. (Calling `main()` from top-level code picks ArgumentParser's
    /// synchronous overload, which cannot run async commands.)
    ///
    /// What `main()` does, plus a "did you mean" for a mistyped command:
    /// ArgumentParser suggests options, not commands. Parsing is the async
    /// kind because the shell completions of probe and map names ask the
    /// nodes (`LiveCompletion`).
    public static func runFromCommandLine() async {
        let arguments = NodeBTFCommand.outputFileArguments(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try await asyncParseAsRoot(arguments)
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if let hint = CommandSuggestion.hint(for: fullMessage(for: error), arguments: arguments) {
                FileHandle.standardError.write(Data("bpfleet: \(hint)\n".utf8))
            }
            exit(withError: error)
        }
    }
}

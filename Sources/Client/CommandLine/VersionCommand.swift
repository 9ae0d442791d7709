import ArgumentParser
import BpfleetShared

/// `bpfleet version`: this command line's version, and with nodes, the
/// version and protocol of each node's bpfleetd (node.info), as
/// `kubectl version` shows client and server.
struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print bpfleet's version, and each node's bpfleetd version and protocol.",
        discussion: "The command line's version first (in table output; --version prints it alone, asking no node), then each node's bpfleetd: its version, the protocol it speaks and its kernel. Exit status as for any fleet command.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        if options.output.isForPeople {
            // Written now, before any node answers (or fails to).
            let out = StandardStream.output()
            out.write("client: bpfleet \(BpfleetVersion.current) (protocol \(ProtocolV1.version))\n")
            out.flush()
        }
        try await FleetCall(options: options, method: NodeInfo.method) { try await $0.callRaw(NodeInfo()) }
            .run(showing: NodeInfo.Result.self) { results, printer in
                printer.table(["SERVER", "PROTOCOL", "KERNEL"], results.map { result in
                    (result.node, ["bpfleetd \(result.value.serverVersion)", result.value.protocolVersion ?? "1.0", result.value.kernelRelease])
                })
            }
    }
}

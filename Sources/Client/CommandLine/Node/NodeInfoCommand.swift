import ArgumentParser
import BpfleetShared

/// `bpfleet node info`
struct NodeInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show host, kernel, versions and the program, map and attach types the kernel supports.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await FleetCall(options: options, method: NodeInfo.method) { try await $0.callRaw(NodeInfo()) }
            .run(showing: NodeInfo.Result.self) { results, printer in
                for result in results { Self.present(result.value, node: result.node, printer) }
            }
    }

    static func present(_ info: NodeInfo.Result, node: NodeTarget, _ printer: TablePrinter) {
        var pairs: [(String, String)] = [
            ("hostname", info.hostname),
            ("kernel", info.kernelRelease),
            ("arch", info.arch),
            ("server", info.serverVersion),
            ("libbpf", info.libbpfVersion),
            ("btf", info.btf ? "yes" : "no"),
            ("run stats", info.runStats ? "yes" : "no"),
            ("started", DisplayText.date(info.startedAt)),
            ("uptime", DisplayText.duration(seconds: info.uptimeSeconds)),
            ("program types", info.programTypes.joined(separator: ", ")),
            ("map types", info.mapTypes.joined(separator: ", ")),
            ("attach targets", info.attachTargets.joined(separator: ", ")),
        ]
        for (target, reason) in info.unsupportedTargets.sorted(by: { $0.key < $1.key }) {
            pairs.append(("unsupported", "\(target): \(reason)"))
        }
        printer.block(node: node, pairs)
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet metrics`: what a node exports to Prometheus (node.metrics), the
/// text its `--metrics-listen` endpoint serves (docs/metrics.md).
struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the node's Prometheus metrics (the text GET /metrics serves).",
        discussion: "With a probe, only its series: its programs' run statistics and its map exports. With several nodes, each node's text follows a '# node: NAME' comment line.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: ArgumentHelp("Only this probe's series.", valueName: "probe"), completion: LiveCompletion.probes)
    var probe: String?

    func run() async throws {
        let request = NodeMetrics(probe: probe)
        try await FleetCall(options: options, method: NodeMetrics.method) { try await $0.callRaw(request) }
            .run(showing: NodeMetrics.Result.self) { results, printer in
                for result in results {
                    if printer.showsNode { printer.stream.write("# node: \(result.node)\n") }
                    printer.stream.write(result.value.text)
                }
            }
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet probe get PROBE`
struct ProbeGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show one probe: its programs with run counts, its maps and links.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The probe's name.", completion: LiveCompletion.probes)
    var probe: String

    func run() async throws {
        let request = ProbeGet(probe: probe)
        try await FleetCall(options: options, method: ProbeGet.method) { try await $0.callRaw(request) }
            .run(showing: ProbeDescription.self) { results, printer in
                for result in results { ProbeView.detail(result.value, node: result.node, printer) }
            }
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet probe unload PROBE`
struct ProbeUnloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unload", abstract: "Detach every link of a probe and free its programs and maps.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The probe's name.", completion: LiveCompletion.probes)
    var probe: String

    func run() async throws {
        let request = ProbeUnload(probe: probe)
        try await FleetCall(options: options, method: ProbeUnload.method) { try await $0.callRaw(request) }
            .run(showing: EmptyResult.self) { [probe] results, printer in
                for result in results { printer.line("probe \(probe) unloaded", node: result.node) }
            }
    }
}

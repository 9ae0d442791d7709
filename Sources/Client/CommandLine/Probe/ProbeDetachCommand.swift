import ArgumentParser
import BpfleetShared

/// `bpfleet probe detach PROBE LINK_ID`
struct ProbeDetachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detach", abstract: "Remove one link of a probe.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The probe's name.", completion: LiveCompletion.probes)
    var probe: String

    @Argument(help: "The link's id within the probe (LINK ID in probe get).")
    var linkId: Int

    func run() async throws {
        let request = ProbeDetach(probe: probe, linkId: linkId)
        try await FleetCall(options: options, method: ProbeDetach.method) { try await $0.callRaw(request) }
            .run(showing: EmptyResult.self) { [probe, linkId] results, printer in
                for result in results { printer.line("link \(linkId) of probe \(probe) detached", node: result.node) }
            }
    }
}

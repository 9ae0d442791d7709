import ArgumentParser
import BpfleetShared

/// `bpfleet probe list`
struct ProbeListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the probes on the nodes.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await FleetCall(options: options, method: ProbeList.method) { try await $0.callRaw(ProbeList()) }
            .run(showing: ProbeList.Result.self, present: ProbeView.list)
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet probe attach PROBE PROGRAM --TARGET ...`
struct ProbeAttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Attach one program of a probe to a kernel or user-space event.",
        discussion: "Give exactly one target flag, with the modifiers it takes.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The probe's name.", completion: LiveCompletion.probes)
    var probe: String

    @Argument(help: "The program's name in the probe.", completion: LiveCompletion.programs)
    var program: String

    @OptionGroup(title: "Attach target")
    var target: AttachTargetOptions

    func run() async throws {
        let request = ProbeAttach(probe: probe, program: program, target: try target.target())
        try await FleetCall(options: options, method: ProbeAttach.method) { try await $0.callRaw(request) }
            .run(showing: LinkDescription.self) { results, printer in
                printer.table(["LINK ID", "ID", "PROGRAM", "TARGET"], results.map { ($0.node, ProbeView.linkCells($0.value)) })
            }
    }
}

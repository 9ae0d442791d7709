import ArgumentParser
import BpfleetShared

/// `bpfleet object delete ID`
struct ObjectDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Remove a stored object; refused while a probe uses it.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The object id (sha256:...).")
    var id: String

    func run() async throws {
        let request = ObjectDelete(objectId: id)
        try await FleetCall(options: options, method: ObjectDelete.method) { try await $0.callRaw(request) }
            .run(showing: EmptyResult.self) { [id] results, printer in
                for result in results { printer.line("object \(id) deleted", node: result.node) }
            }
    }
}

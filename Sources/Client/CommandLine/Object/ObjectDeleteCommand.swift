import ArgumentParser
import BpfleetShared

/// `bpfleet object delete ID`
struct ObjectDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Remove a stored object; refused while a probe uses it.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The object id (sha256:...), or a unique prefix of it.")
    var id: String

    func run() async throws {
        let id = self.id
        try await FleetCall(options: options, method: ObjectDelete.method) { connection in
            try await connection.callRaw(ObjectDelete(objectId: try await ObjectIDPrefix.resolve(id, on: connection)))
        }
            .run(showing: EmptyResult.self) { [id] results, printer in
                for result in results { printer.line("object \(id) deleted", node: result.node) }
            }
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet object get ID`
struct ObjectGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show one stored object: its programs, maps and global variables.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The object id (sha256:...), or a unique prefix of it.")
    var id: String

    func run() async throws {
        let id = self.id
        try await FleetCall(options: options, method: ObjectGet.method) { connection in
            try await connection.callRaw(ObjectGet(objectId: try await ObjectIDPrefix.resolve(id, on: connection)))
        }
            .run(showing: ObjectDescription.self) { results, printer in
                for result in results { ObjectView.detail(result.value, node: result.node, printer) }
            }
    }
}

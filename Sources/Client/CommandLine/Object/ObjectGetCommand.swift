import ArgumentParser
import BpfleetShared

/// `bpfleet object get ID`
struct ObjectGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show one stored object: its programs, maps and global variables.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The object id (sha256:...).")
    var id: String

    func run() async throws {
        let request = ObjectGet(objectId: id)
        try await FleetCall(options: options, method: ObjectGet.method) { try await $0.callRaw(request) }
            .run(showing: ObjectDescription.self) { results, printer in
                for result in results { ObjectView.detail(result.value, node: result.node, printer) }
            }
    }
}

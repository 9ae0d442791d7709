import ArgumentParser
import BpfleetShared

/// `bpfleet object list`
struct ObjectListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the objects stored on the nodes.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await FleetCall(options: options, method: ObjectList.method) { try await $0.callRaw(ObjectList()) }
            .run(showing: ObjectList.Result.self, present: ObjectView.list)
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet map delete PROBE MAP KEY [--format]`
struct MapDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove one entry of a map.")

    @OptionGroup var options: GlobalOptions

    @OptionGroup var selection: MapSelection

    @Argument(help: "The key: JSON, or a string; with --format hex its bytes (01 02 0a or 01020a).")
    var key: String

    func validate() throws {
        _ = try selection.wireValue(key, argument: "KEY")
    }

    func run() async throws {
        let request = MapDelete(map: selection.reference, key: try selection.wireValue(key, argument: "KEY"), format: selection.valueFormat)
        let reference = selection.reference
        try await FleetCall(options: options, method: MapDelete.method) { try await $0.callRaw(request) }
            .run(showing: EmptyResult.self) { [key] results, printer in
                for result in results { printer.line("\(reference): \(key) deleted", node: result.node) }
            }
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet map update PROBE MAP KEY VALUE [--flags any|noexist|exist] [--format]`
struct MapUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Set one entry of a map.")

    @OptionGroup var options: GlobalOptions

    @OptionGroup var selection: MapSelection

    @Argument(help: "The key: JSON, or a string.")
    var key: String

    @Argument(help: "The value: JSON, or a string.")
    var value: String

    @Option(help: "any: create or replace; noexist: create only; exist: replace only.")
    var flags: UpdateFlags?

    enum UpdateFlags: String, CaseIterable, ExpressibleByArgument {
        case any, noexist, exist
    }

    func run() async throws {
        let request = MapUpdate(map: selection.reference, key: JSONArgument.value(key), value: JSONArgument.value(value),
                                format: selection.valueFormat, flags: flags?.rawValue)
        let reference = selection.reference
        try await FleetCall(options: options, method: MapUpdate.method) { try await $0.callRaw(request) }
            .run(showing: EmptyResult.self) { [key] results, printer in
                for result in results { printer.line("\(reference): \(key) updated", node: result.node) }
            }
    }
}

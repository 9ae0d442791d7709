import ArgumentParser
import BpfleetShared

/// `bpfleet map update PROBE MAP KEY VALUE [--flags any|noexist|exist] [--format]`
struct MapUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Set one entry of a map.")

    @OptionGroup var options: GlobalOptions

    @OptionGroup var selection: MapSelection

    @Argument(help: "The key: JSON, or a string; with --format hex its bytes (01 02 0a or 01020a).")
    var key: String

    @Argument(help: "The value: JSON, or a string; with --format hex its bytes (01 02 0a or 01020a).")
    var value: String

    @Option(help: "any: create or replace; noexist: create only; exist: replace only.")
    var flags: UpdateFlags?

    enum UpdateFlags: String, CaseIterable, ExpressibleByArgument {
        case any, noexist, exist
    }

    func validate() throws {
        _ = try selection.wireValue(key, argument: "KEY")
        _ = try selection.wireValue(value, argument: "VALUE")
    }

    func run() async throws {
        let request = MapUpdate(map: selection.reference, key: try selection.wireValue(key, argument: "KEY"), value: try selection.wireValue(value, argument: "VALUE"),
                                format: selection.valueFormat, flags: flags?.rawValue)
        let reference = selection.reference
        try await FleetCall(options: options, method: MapUpdate.method) { try await $0.callRaw(request) }
            .run(showing: EmptyResult.self) { [key] results, printer in
                for result in results { printer.line("\(reference): \(key) updated", node: result.node) }
            }
    }
}

import ArgumentParser
import BpfleetShared

/// `bpfleet map lookup PROBE MAP KEY [--format]`
struct MapLookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lookup", abstract: "Print one entry of a map by key.")

    @OptionGroup var options: GlobalOptions

    @OptionGroup var selection: MapSelection

    @Argument(help: "The key: JSON, or a string; with --format hex its bytes (01 02 0a or 01020a).")
    var key: String

    func validate() throws {
        _ = try selection.wireValue(key, argument: "KEY")
    }

    func run() async throws {
        let request = MapLookup(map: selection.reference, key: try selection.wireValue(key, argument: "KEY"), format: selection.valueFormat)
        try await FleetCall(options: options, method: MapLookup.method) { try await $0.callRaw(request) }
            .run(decode: { result, node in
                do {
                    return try result.withUnsafeReadableBytes { try MapEntryText.entry($0) }
                } catch {
                    throw ClientError.unexpectedResult(node, method: MapLookup.method, detail: "\(error)")
                }
            }, present: { results, printer in
                printer.table(["KEY", "VALUE"], results.map { ($0.node, [selection.shown($0.value.key), selection.shown($0.value.value)]) })
            })
    }
}

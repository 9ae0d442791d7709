import ArgumentParser
import BpfleetShared

/// `bpfleet map list [PROBE]`
struct MapListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the maps of one probe, or of every probe.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "Only this probe's maps.", completion: LiveCompletion.probes)
    var probe: String?

    func run() async throws {
        let request = MapList(probe: probe)
        try await FleetCall(options: options, method: MapList.method) { try await $0.callRaw(request) }
            .run(showing: MapList.Result.self) { results, printer in
                var rows: [(NodeTarget, [String])] = []
                for result in results {
                    for map in result.value.maps {
                        rows.append((result.node, [
                            map.probe ?? "-", map.name, map.type, String(map.id),
                            ObjectView.typed(map.keySize, map.keyType), ObjectView.typed(map.valueSize, map.valueType),
                            String(map.maxEntries),
                        ]))
                    }
                }
                printer.table(["PROBE", "NAME", "TYPE", "ID", "KEY", "VALUE", "MAX ENTRIES"], rows)
            }
    }
}

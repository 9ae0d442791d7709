import ArgumentParser

struct MapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "Read and change the maps of probes.",
        discussion: """
            KEY and VALUE are parsed as JSON when they are JSON (42, {"pid":1}, [1,2]), otherwise \
            taken as strings; with --format hex they are hex strings of the raw bytes.
            """,
        subcommands: [MapListCommand.self, MapDumpCommand.self, MapLookupCommand.self, MapUpdateCommand.self,
                      MapDeleteCommand.self, MapWatchCommand.self])
}

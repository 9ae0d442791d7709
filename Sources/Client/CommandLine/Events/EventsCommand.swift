import ArgumentParser

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Stream the records of a probe's ring buffer or perf event array.",
        subcommands: [EventsTailCommand.self])
}

import ArgumentParser

struct ObjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "object",
        abstract: "Compiled BPF ELF objects stored on the nodes.",
        subcommands: [ObjectUploadCommand.self, ObjectListCommand.self, ObjectGetCommand.self, ObjectDeleteCommand.self])
}

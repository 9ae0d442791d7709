import ArgumentParser

struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "What the nodes are and what their kernels can do.",
        subcommands: [NodeInfoCommand.self, NodeBTFCommand.self])
}

import ArgumentParser

struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "What the nodes are and what their kernels can do.",
        subcommands: [NodeInfoCommand.self, NodeProgramsCommand.self, NodeMapsCommand.self, NodeLinksCommand.self, NodeBTFCommand.self])
}

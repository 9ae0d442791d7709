import ArgumentParser
import BpfleetShared

/// `bpfleet protocol`: the protocol's contract as this build has it, with
/// no node involved (a node answers the same to `rpc.discover`).
struct ProtocolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protocol",
        abstract: "Print the protocol's contract: the OpenRPC document or the reference.",
        subcommands: [OpenRPC.self, Reference.self])

    struct OpenRPC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "openrpc",
            abstract: "Print the OpenRPC 1.3 document of the protocol (docs/openrpc.json).")

        func run() throws {
            StandardStream.output().write(try Contract().openRPCText())
        }
    }

    struct Reference: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reference",
            abstract: "Print the API reference in Markdown (docs/api.md).")

        func run() throws {
            StandardStream.output().write(try Contract().reference())
        }
    }
}

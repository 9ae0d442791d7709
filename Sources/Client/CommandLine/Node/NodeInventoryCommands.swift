import ArgumentParser
import BpfleetShared

/// What `node programs|maps|links` share: the nodes, and whether to walk
/// /proc for the holding processes.
struct InventoryOptions: ParsableArguments {
    @Flag(name: .customLong("no-holders"), help: "Do not name the processes holding each object (skips the node's /proc walk).")
    var noHolders = false

    var holders: Bool? { noHolders ? false : nil }
}

enum InventoryText {
    static func owner(_ owner: ProbeOwner?) -> String {
        guard let owner else { return "-" }
        if let name = owner.name { return "\(owner.probe)/\(name)" }
        if let linkId = owner.linkId { return "\(owner.probe) link \(linkId)" }
        return owner.probe
    }

    static func holders(_ holders: [ObjectHolder]?) -> String {
        guard let holders, !holders.isEmpty else { return "-" }
        return holders.map { "\($0.comm)(\($0.pid))" }.joined(separator: ",")
    }

    static func ids(_ ids: [UInt32]) -> String {
        ids.isEmpty ? "-" : ids.map(String.init).joined(separator: ",")
    }

    /// A note under the table when a node's answer was cut at its bound.
    static func truncated(_ nodes: [NodeTarget], kind: String, _ printer: TablePrinter) {
        for node in nodes {
            printer.line("more \(kind) than one answer carries (\(NodeInventoryLimits.objects)): the lowest ids are shown", node: node)
        }
    }
}

/// `bpfleet node programs`
struct NodeProgramsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "programs",
        abstract: "List every BPF program in the nodes' kernels, bpfleet's or not, with its owner and holders.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var inventory: InventoryOptions

    func run() async throws {
        let request = NodePrograms(holders: inventory.holders)
        try await FleetCall(options: options, method: NodePrograms.method) { try await $0.callRaw(request) }
            .run(showing: NodePrograms.Result.self) { results, printer in
                var rows: [(NodeTarget, [String])] = []
                for result in results {
                    for program in result.value.programs {
                        rows.append((result.node, [
                            String(program.id), program.type, program.name.isEmpty ? "-" : program.name, InventoryText.owner(program.owner),
                            program.attachPoints.isEmpty ? "-" : program.attachPoints.joined(separator: "; "),
                            String(program.runCount), InventoryText.ids(program.mapIds), InventoryText.holders(program.holders),
                        ]))
                    }
                }
                printer.table(["ID", "TYPE", "NAME", "OWNER", "ATTACHED", "RUNS", "MAPS", "HELD BY"], rows)
                InventoryText.truncated(results.filter(\.value.truncated).map(\.node), kind: "programs", printer)
            }
    }
}

/// `bpfleet node maps`
struct NodeMapsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maps",
        abstract: "List every BPF map in the nodes' kernels, bpfleet's or not, with its owner, users and holders.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var inventory: InventoryOptions

    func run() async throws {
        let request = NodeMaps(holders: inventory.holders)
        try await FleetCall(options: options, method: NodeMaps.method) { try await $0.callRaw(request) }
            .run(showing: NodeMaps.Result.self) { results, printer in
                var rows: [(NodeTarget, [String])] = []
                for result in results {
                    for map in result.value.maps {
                        rows.append((result.node, [
                            String(map.id), map.type, map.name.isEmpty ? "-" : map.name, InventoryText.owner(map.owner),
                            ObjectView.typed(map.keySize, map.keyType), ObjectView.typed(map.valueSize, map.valueType),
                            String(map.maxEntries), InventoryText.ids(map.programIds), InventoryText.holders(map.holders),
                        ]))
                    }
                }
                printer.table(["ID", "TYPE", "NAME", "OWNER", "KEY", "VALUE", "MAX ENTRIES", "PROGRAMS", "HELD BY"], rows)
                InventoryText.truncated(results.filter(\.value.truncated).map(\.node), kind: "maps", printer)
            }
    }
}

/// `bpfleet node links`
struct NodeLinksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links",
        abstract: "List every BPF link in the nodes' kernels, bpfleet's or not: program, attach point, owner and holders.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var inventory: InventoryOptions

    func run() async throws {
        let request = NodeLinks(holders: inventory.holders)
        try await FleetCall(options: options, method: NodeLinks.method) { try await $0.callRaw(request) }
            .run(showing: NodeLinks.Result.self) { results, printer in
                var rows: [(NodeTarget, [String])] = []
                for result in results {
                    for link in result.value.links {
                        rows.append((result.node, [
                            String(link.id), link.type, String(link.programId), link.attachPoint, InventoryText.owner(link.owner),
                            InventoryText.holders(link.holders),
                        ]))
                    }
                }
                printer.table(["ID", "TYPE", "PROGRAM", "ATTACHED TO", "OWNER", "HELD BY"], rows)
                InventoryText.truncated(results.filter(\.value.truncated).map(\.node), kind: "links", printer)
            }
    }
}

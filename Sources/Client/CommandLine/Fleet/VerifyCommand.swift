import ArgumentParser
import BpfleetShared
import Foundation

/// `bpfleet verify FILE [--program P]... [--global NAME=VALUE]... [--map-size MAP=N]...`
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run a BPF object through the verifier of every node, change nothing, and show the verdicts by kernel.",
        discussion: """
            Each node that lacks the object gets it (object.upload), runs probe.verify on it (its \
            programs loaded through the verifier and freed: nothing pinned, attached or recorded), and \
            loses it again. The table has one line per kernel release and verdict, with the nodes it \
            covers; -o json gives each node's verdicts. Exit status: 0 when every program verified on \
            every node, 1 when no node verified it, 2 when some did. Unreachable nodes are listed. docs/cli.md.
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: ArgumentHelp("A BPF ELF file.", valueName: "file"))
    var file: String

    @OptionGroup var signatures: SignatureOptions

    @Option(name: .customLong("program"), help: "Verify only this program; repeat for several (default: all).")
    var programs: [String] = []

    @Option(name: .customLong("global"), help: ArgumentHelp("Set a .rodata/.data/.bss variable, as probe load does.", valueName: "name=value"),
            transform: Assignment.init(parsing:))
    var globals: [Assignment] = []

    @Option(name: .customLong("map-size"), help: ArgumentHelp("Set a map's max_entries before the load, as probe load does.", valueName: "map=entries"),
            transform: Assignment.init(parsing:))
    var mapSizes: [Assignment] = []

    func validate() throws {
        try ObjectFile.validate(file)
        _ = try settings()
    }

    private func settings() throws -> (globals: [String: JSONValue]?, maps: [String: MapSettings]?) {
        (globals.isEmpty ? nil : try Assignment.dictionary(globals, option: "--global", JSONArgument.value),
         mapSizes.isEmpty ? nil : try Assignment.dictionary(mapSizes, option: "--map-size", ProbeLoadCommand.mapSize))
    }

    func run() async throws {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ValidationError("cannot read '\(file)': \(error.localizedDescription)")
        }
        let (globals, maps) = try settings()
        // A node with an object policy verifies only what it would load.
        let signed: [ObjectSignature]
        do throws(SignatureFile.Failure) {
            signed = try SignatureFile.signatures(of: file, digest: ObjectSignature.digest(of: bytes), paths: signatures.files)
        } catch {
            throw ValidationError(error.description)
        }
        let plan: GlobalOptions.Plan
        do {
            plan = try options.plan()
        } catch {
            FleetManifestCommand.usage("\(error)")
        }
        let verify = FleetVerify(objectBytes: bytes, name: URL(fileURLWithPath: file).lastPathComponent, signatures: signed,
                                 programs: programs.isEmpty ? nil : programs, globals: globals, maps: maps)
        let results = await verify.run(on: plan.targets, fanOut: plan.fanOut, keepUploads: false)
        VerifyPresenter(format: options.output, verifierLog: options.verifierLog).show(results)
        if let status = FleetExit.status(ok: results.filter(\.verified).count, of: results.count) { throw status }
    }
}

/// How `verify` and a refused preflight print their verdicts.
struct VerifyPresenter {
    var format: OutputFormat
    var verifierLog: Bool

    /// One JSON element per node.
    struct NodeElement: Encodable {
        var node: String
        var address: String
        var ok: Bool
        var result: ProbeVerify.Result?
        var error: NodeFailure?
    }

    func show(_ results: [FleetVerify.NodeResult]) {
        let output = StandardStream.output(format.transcoding)
        switch format {
        case .json, .yaml, .ndjson:
            let encoder = JSONEncoder.wire()
            encoder.outputFormatting.insert(.sortedKeys)
            let elements = results.map { result in
                NodeElement(node: result.node.description, address: result.node.address.description, ok: result.verified,
                            result: try? result.result.get(), error: Self.failure(result.result))
            }
            if format.isDocument {
                let text = (try? encoder.encode(elements)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
                output.write(text + "\n")
            } else {
                for element in elements {
                    output.write(((try? encoder.encode(element)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n")
                }
            }
        case .table, .wide:
            let groups = VerifyGroup.groups(results.map { ($0.node.description, $0.result) })
            TablePrinter(stream: output, showsNode: false).columns(
                ["KERNEL", "NODES", "VERDICT"], groups.map { [$0.kernel, $0.nodes.joined(separator: ","), $0.verdict] })
            if verifierLog {
                for result in results {
                    guard case .success(let verified) = result.result else { continue }
                    for program in verified.programs {
                        guard let log = program.log else { continue }
                        output.write("--- \(result.node): \(program.name)\n" + (log.hasSuffix("\n") ? log : log + "\n"))
                    }
                }
            }
        }
        output.flush()
    }

    static func failure(_ result: Result<ProbeVerify.Result, NodeFailure>) -> NodeFailure? {
        if case .failure(let failure) = result { return failure }
        return nil
    }
}

import ArgumentParser
import BpfleetShared
import NIOCore

/// `bpfleet map dump PROBE MAP [--format typed|hex] [--limit N]`
struct MapDumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Print every entry of a map (method map.snapshot).")

    @OptionGroup var options: GlobalOptions

    @OptionGroup var selection: WholeMapSelection

    @Option(help: "At most this many entries.")
    var limit: Int?

    @Flag(help: "Print the map's stacks, symbolized on the node, as folded stacks (frames root first, ';' between, then the count): what flame graph tools read.")
    var stacks = false

    @Option(name: .customLong("stack-map"), help: ArgumentHelp("With --stacks: the stack trace map the entries' stack ids index, when the probe has several.", valueName: "map"))
    var stackMap: String?

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
        if stackMap != nil, !stacks { throw ValidationError("--stack-map needs --stacks") }
    }

    func run() async throws {
        let request = MapSnapshot(map: selection.reference, format: selection.valueFormat, limit: limit,
                                  symbolize: stacks ? true : nil, stackMap: stackMap)
        if stacks {
            return try await FleetCall(options: options, method: MapSnapshot.method) { connection in
                var request = request
                request.map = try await KernelMapID.resolve(request.map, on: connection)
                return try await connection.callRaw(request)
            }
                .run(decode: { result, node in
                    do {
                        return try FoldedStacks.lines(fromSnapshot: result)
                    } catch {
                        throw ClientError.unexpectedResult(node, method: MapSnapshot.method, detail: "\(error)")
                    }
                }, present: { results, printer in
                    for result in results {
                        for line in result.value { printer.line(line, node: result.node) }
                    }
                })
        }
        let reference = selection.reference
        try await FleetCall(options: options, method: MapSnapshot.method) { connection in
                var request = request
                request.map = try await KernelMapID.resolve(request.map, on: connection)
                return try await connection.callRaw(request)
            }
            .run(decode: { result, node in
                do {
                    return try MapEntryText.snapshot(result)
                } catch {
                    throw ClientError.unexpectedResult(node, method: MapSnapshot.method, detail: "\(error)")
                }
            }, present: { results, printer in
                var rows: [(NodeTarget, [String])] = []
                for result in results {
                    for entry in result.value.entries { rows.append((result.node, [selection.shown(entry.key), selection.shown(entry.value)])) }
                }
                printer.table(["KEY", "VALUE"], rows)
                // On stderr: a pipeline reading the entries sees only entries.
                printer.stream.flush()
                let notes = StandardStream.error()
                for result in results where result.value.truncated {
                    let node = printer.showsNode ? "\(result.node): " : ""
                    notes.write("bpfleet: \(node)\(reference): showing the first \(result.value.entries.count) entries; the map holds more\n")
                }
                notes.flush()
            })
    }
}

import ArgumentParser
import BpfleetShared
import Foundation

/// `bpfleet iter read PROBE PROGRAM [--map PROBE/MAP] [--record-type TYPE] [--limit BYTES]`
struct IterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iter",
        abstract: "Run the iterator programs of probes: a query of live kernel state.",
        subcommands: [IterReadCommand.self])
}

struct IterReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Run an iterator program (iter/task, iter/bpf_map, iter/tcp, ...) once and print what it wrote.",
        discussion: """
            The output is printed as the iterator wrote it (one node: as is; several: each line \
            after its node's name). With --record-type the output is read as records of that BTF \
            type, one JSON object per line. An iterator over one map's elements \
            (iter/bpf_map_elem) needs --map.
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The probe.", completion: LiveCompletion.probes)
    var probe: String

    @Argument(help: "The iterator program.", completion: LiveCompletion.programs)
    var program: String

    @Option(help: ArgumentHelp("The map an element iterator walks: MAP of the same probe, or PROBE/MAP.", valueName: "map"))
    var map: String?

    @Option(name: .customLong("record-type"), help: ArgumentHelp("Read the output as records of this BTF type.", valueName: "type"))
    var recordType: String?

    @Option(help: ArgumentHelp("The most bytes to read (default 1 MiB, at most 64 MiB).", valueName: "bytes"))
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit: at least 1 byte") }
    }

    var request: IterRead {
        let reference = map.map { text -> MapRef in
            if let slash = text.firstIndex(of: "/") {
                return .named(probe: String(text[..<slash]), name: String(text[text.index(after: slash)...]))
            }
            return .named(probe: probe, name: text)
        }
        return IterRead(probe: probe, program: program, map: reference, recordType: recordType, limit: limit)
    }

    func run() async throws {
        let request = self.request
        try await FleetCall(options: options, method: IterRead.method) { try await $0.callRaw(request) }
            .run(showing: IterRead.Result.self) { results, printer in
                // Notes go to stderr, so that stdout is the iterator's output alone.
                let notes = StandardStream.error()
                for result in results {
                    var lines: [String] = []
                    if let records = result.value.records {
                        lines = records.map { String(decoding: (try? JSONEncoder.wire().encode($0)) ?? Data(), as: UTF8.self) }
                    } else if result.value.encoding == "base64" {
                        notes.write("bpfleet: \(result.node): \(result.value.bytes) bytes of binary output (-o json shows it, --record-type reads it)\n")
                    } else {
                        lines = (result.value.output ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                        if lines.last == "" { lines.removeLast() }
                    }
                    for line in lines { printer.line(line, node: result.node) }
                    if result.value.lossy == true {
                        notes.write("bpfleet: \(result.node): the output held bytes that are not UTF-8, shown as U+FFFD\n")
                    }
                    if result.value.truncated {
                        notes.write("bpfleet: \(result.node): output truncated at \(result.value.bytes) bytes (--limit reads more)\n")
                    }
                }
                notes.flush()
            }
    }
}

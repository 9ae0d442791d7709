import ArgumentParser
import BpfleetShared

/// `bpfleet events tail PROBE MAP [--record-type TYPE]`
struct EventsTailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the records of a ring buffer or perf event array as they come (method events.subscribe).",
        discussion: """
            One line per record: the record's JSON (with the node in front when several nodes were given), \
            or with -o ndjson {"node":NODE,"address":ADDRESS,"record":RECORD}; records the kernel or the node dropped are \
            counted ({"node":NODE,"address":ADDRESS,"lost":N}, or a note on stderr). Stops on Ctrl-C, after --count records \
            from each node or --duration, or when every node has ended the subscription.
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The probe's name.", completion: LiveCompletion.probes)
    var probe: String

    @Argument(help: "The ring buffer or perf event array's name in the probe.", completion: LiveCompletion.maps)
    var map: String

    @Option(help: ArgumentHelp("Decode records as this BTF type of the object, e.g. 'struct exec_event' (default: hex bytes, and a note on stderr naming the struct types the object defines).", valueName: "type"))
    var recordType: String?

    @OptionGroup var limits: StreamLimits

    func run() async throws {
        try await execute(outputs: SubscriptionRun.Outputs())
    }

    func execute(outputs: SubscriptionRun.Outputs) async throws {
        let request = EventsSubscribe(map: .named(probe: probe, name: map), recordType: recordType)
        let format = options.output
        // People reading hex are told what could decode it; scripts asked
        // for the format they get.
        let hint = recordType == nil && format.isForPeople ? RecordTypeHint(probe: probe, map: map, errors: outputs.errors) : nil
        let run = SubscriptionRun(options: options, method: EventsSubscribe.method, count: limits.count,
                                  duration: try limits.parsedDuration()) { connection in
            await hint?.offer(from: connection)
            return try await connection.subscribe(request)
        }
        try await run.run(outputs: outputs) { nodes, outputs in
            if format.isForPeople { return EventsText(nodes: nodes, outputs: outputs) }
            return EventsLines(nodes: nodes, format: format, outputs: outputs)
        }
    }
}

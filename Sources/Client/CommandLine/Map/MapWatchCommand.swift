import ArgumentParser
import BpfleetShared

/// `bpfleet map watch PROBE MAP [--interval 1s] [--delta] [--format typed|hex]`
struct MapWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch a map live (method map.watch): a table redrawn in place, or a line per notification.",
        discussion: """
            In a terminal with -o table: each node's entries, largest value first, with the rate per second of \
            integer counters, redrawn in place. Otherwise (-o ndjson, or stdout not a terminal) one line per \
            notification: {"node":NODE,"address":ADDRESS,"notification":{"method":...,"params":...}}. Stops on Ctrl-C, after \
            --count notifications from each node or --duration, or when every node has ended the subscription.
            """)

    @OptionGroup var options: GlobalOptions

    @OptionGroup var selection: WholeMapSelection

    @Option(help: ArgumentHelp("How often the node sends the map: 100ms at least, e.g. 250ms, 1s, 2m.", valueName: "duration"))
    var interval = "1s"

    @Flag(help: "Send only what changed (set and removed entries) after a first full snapshot.")
    var delta = false

    @OptionGroup var limits: StreamLimits

    func validate() throws {
        _ = try intervalMilliseconds()
    }

    func intervalMilliseconds() throws -> Int {
        let parsed: Duration
        do {
            parsed = try DurationText.parse(interval)
        } catch {
            throw ValidationError("--interval: \(error)")
        }
        let milliseconds = DurationText.milliseconds(parsed)
        guard milliseconds >= MapWatch.minimumIntervalMs else {
            throw ValidationError("--interval must be at least \(MapWatch.minimumIntervalMs)ms")
        }
        return milliseconds
    }

    func run() async throws {
        try await execute(outputs: SubscriptionRun.Outputs())
    }

    func execute(outputs: SubscriptionRun.Outputs) async throws {
        let request = MapWatch(map: selection.reference, intervalMs: try intervalMilliseconds(),
                               mode: delta ? .delta : .full, format: selection.valueFormat)
        let run = SubscriptionRun(options: options, method: MapWatch.method, count: limits.count,
                                  duration: try limits.parsedDuration()) { connection in
            var request = request
            request.map = try await KernelMapID.resolve(request.map, on: connection)
            return try await connection.subscribe(request)
        }
        let format = options.output
        let title = "map watch \(selection.reference)  every \(interval)  \(delta ? "delta" : "full")"
        try await run.run(outputs: outputs) { nodes, outputs in
            if format.isForPeople, Terminal.isTerminal(outputs.output) {
                return MapWatchLive(nodes: nodes, map: selection.reference.description, title: title, outputs: outputs)
            }
            return MapWatchLines(nodes: nodes, format: format, outputs: outputs)
        }
    }
}

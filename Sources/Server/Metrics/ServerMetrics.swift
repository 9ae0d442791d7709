import BpfleetShared
import NIOConcurrencyHelpers
import Prometheus

/// bpfleetd's own metrics (docs/metrics.md), kept in a swift-prometheus
/// registry that renders them. Counted as things happen: RPC calls, their
/// latency, open connections, events delivered and lost. Computed at each
/// scrape: probes by state and origin, subscriptions open, and each probe
/// program's kernel run count and run time.
///
/// Every label value is bounded: methods are the protocol's (others count
/// as `unknown`), codes the protocol's error codes, transports three, and
/// programs those of the probes loaded now (their series go with them).
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    /// Label of requests for a method the node does not serve.
    static let unknownMethod = "unknown"
    /// Label of requests that were not a request at all (not JSON, not a
    /// request object, an over-long line).
    static let invalidMethod = "invalid"

    /// Seconds: from a millisecond to a minute.
    static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    static let probeStates = ["running", "degraded", "failed"]
    static let probeOrigins = ["loaded", "adopted", "restored"]
    static let transports = ["unix", "tls", "tcp"]

    enum Help {
        static let calls = "JSON-RPC requests answered, by method and error code (0: success)."
        static let duration = "Seconds from reading a JSON-RPC request to its reply being ready, by method."
        static let connections = "JSON-RPC connections open, by transport (unix, tls, tcp)."
        static let subscriptions = "Subscriptions (map.watch, events.subscribe) open."
        static let eventsDelivered = "Event records written to events.subscribe subscribers."
        static let eventsLost = "Event records lost before reaching a subscriber (kernel buffer full, or the subscriber too slow)."
        static let probes = "Probes this bpfleetd holds, by state and origin."
        static let programRuns = "Times the kernel ran a probe's program (run statistics on)."
        static let programRunSeconds = "Seconds the kernel spent running a probe's program (run statistics on)."
        static let scrapes = "Metrics renderings served (GET /metrics and node.metrics)."
        static let desiredStateWrite = "Seconds to write a probe's desired state to the state directory (written, synced and renamed into place)."
    }

    /// Seconds: from 100 microseconds to 10 seconds (a sync of a busy disk).
    static let writeBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

    /// Reads and writes the probes' map exports at each rendering.
    let exports: MapExportRenderer
    /// Renderings that read map exports at once; more wait.
    let exportGate = AsyncSemaphore(permits: 2)
    private let desiredStateWrites: ValueHistogram

    private let connectionGauges: [String: Gauge]
    private let eventsDelivered: Counter
    private let eventsLost: Counter
    private let subscriptions: Gauge
    private let probeGauges: [String: Gauge]
    private let scrapes: Counter
    private let knownMethods: Set<String>

    /// The per-program series of the last scrape, by their labels, so that
    /// a program gone since is unregistered. Also serializes renderings:
    /// a program's counters are set (reset, then added to) and rendered
    /// under this lock.
    private struct ProgramSeries {
        var runs: Counter
        var seconds: Counter
    }
    private let programs = NIOLockedValueBox<[[String]: ProgramSeries]>([:])

    public init(methods: [String] = ProtocolV1.methodNames, maxExportEntries: Int = 65_536) {
        knownMethods = Set(methods)
        exports = MapExportRenderer(maxEntriesPerProbe: maxExportEntries)
        var connections: [String: Gauge] = [:]
        for transport in Self.transports {
            connections[transport] = registry.makeGauge(descriptor: Self.name("connections", "", Help.connections), labels: [("transport", transport)])
        }
        connectionGauges = connections
        eventsDelivered = registry.makeCounter(descriptor: Self.name("events_delivered", "total", Help.eventsDelivered))
        eventsLost = registry.makeCounter(descriptor: Self.name("events_lost", "total", Help.eventsLost))
        subscriptions = registry.makeGauge(descriptor: Self.name("subscriptions", "", Help.subscriptions))
        var probes: [String: Gauge] = [:]
        for state in Self.probeStates {
            for origin in Self.probeOrigins {
                probes[state + "/" + origin] = registry.makeGauge(
                    descriptor: Self.name("probes", "", Help.probes), labels: [("state", state), ("origin", origin)])
            }
        }
        probeGauges = probes
        scrapes = registry.makeCounter(descriptor: Self.name("metrics_scrapes", "total", Help.scrapes))
        desiredStateWrites = registry.makeValueHistogram(descriptor: Self.name("desired_state_write", "seconds", Help.desiredStateWrite),
                                                         buckets: Self.writeBuckets)
    }

    /// `bpfleet_NAME_UNIT` (no `_UNIT` when `unit` is empty), with its help.
    static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "bpfleet", metricName: name, unitName: unit, helpText: help)
    }

    // MARK: Counted as things happen

    /// The method label of a request for `method`: itself when the node
    /// serves it, `unknown` otherwise (a client cannot make new series).
    func methodLabel(_ method: String) -> String {
        knownMethods.contains(method) ? method : Self.unknownMethod
    }

    /// Each (method, code)'s counter and each method's histogram, once
    /// made: a call then costs a dictionary lookup, not the registry's
    /// name and label checks. Bounded by the protocol's methods and codes.
    private struct CallSeries {
        var counters: [CallKey: Counter] = [:]
        var durations: [String: ValueHistogram] = [:]
    }
    private struct CallKey: Hashable {
        var method: String
        var code: Int
    }
    private let calls = NIOLockedValueBox(CallSeries())

    /// One request answered (or, a notification, run): `code` 0 on success.
    func recordCall(method: String, code: Int, seconds: Double?) {
        let label = method == Self.invalidMethod ? method : methodLabel(method)
        let timed = seconds != nil && label != Self.unknownMethod && label != Self.invalidMethod
        let (counter, duration) = calls.withLockedValue { series -> (Counter, ValueHistogram?) in
            let key = CallKey(method: label, code: code)
            let counter = series.counters[key] ?? registry.makeCounter(
                descriptor: Self.name("rpc_calls", "total", Help.calls), labels: [("method", label), ("code", String(code))])
            series.counters[key] = counter
            guard timed else { return (counter, nil) }
            let duration = series.durations[label] ?? registry.makeValueHistogram(
                descriptor: Self.name("rpc_call_duration", "seconds", Help.duration), labels: [("method", label)], buckets: Self.latencyBuckets)
            series.durations[label] = duration
            return (counter, duration)
        }
        counter.increment()
        if let seconds, let duration { duration.record(seconds) }
    }

    func connectionOpened(transport: String) {
        connectionGauges[transport]?.increment()
    }

    func connectionClosed(transport: String) {
        connectionGauges[transport]?.decrement()
    }

    func desiredStateWritten(seconds: Double) {
        desiredStateWrites.record(seconds)
    }

    func eventsWritten(_ delivered: Int, lost: UInt64) {
        if delivered > 0 { eventsDelivered.increment(by: Int64(delivered)) }
        if lost > 0 { eventsLost.increment(by: Int64(clamping: lost)) }
    }

    // MARK: Computed at a scrape

    /// What a scrape computes: the probes (with their programs' run
    /// statistics) and the subscriptions open.
    struct Snapshot: Sendable {
        var probes: [ProbeDescription]
        var subscriptions: Int
        /// The map exports, rendered (`MapExportRenderer`).
        var exports: [UInt8] = []
    }

    /// Sets what the snapshot says and renders everything, in the
    /// Prometheus text format (0.0.4); with `probe`, only that probe's
    /// series (its programs' and its map exports).
    func render(_ snapshot: Snapshot, probe: String? = nil) -> String {
        let own = renderOwn(snapshot)
        guard let probe else { return own + String(decoding: snapshot.exports, as: UTF8.self) }
        return Self.only(probe: probe, own) + String(decoding: snapshot.exports, as: UTF8.self)
    }

    /// The families' lines with a sample labelled `probe="NAME"`, each
    /// family's HELP and TYPE with them; families without one are left out.
    static func only(probe: String, _ text: String) -> String {
        let wanted = "probe=\"\(probe)\""
        var out = ""
        var header: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                if line.hasPrefix("# HELP") { header = [] }
                header.append(line)
                continue
            }
            guard let open = line.firstIndex(of: "{"),
                  line[line.index(after: open)...].hasPrefix(wanted) || line[open...].contains("," + wanted) else { continue }
            for held in header { out += held + "\n" }
            header = []
            out += line + "\n"
        }
        return out
    }

    private func renderOwn(_ snapshot: Snapshot) -> String {
        programs.withLockedValue { series in
            scrapes.increment()
            subscriptions.set(Int64(snapshot.subscriptions))
            var counts: [String: Int] = [:]
            var seen: Set<[String]> = []
            for probe in snapshot.probes {
                counts[(probe.state ?? "running") + "/" + (probe.origin ?? "loaded"), default: 0] += 1
                for program in probe.programs where program.id != 0 {
                    let labels = [probe.name, program.name, String(program.id), program.type]
                    guard seen.insert(labels).inserted else { continue }
                    let current = series[labels] ?? makeProgramSeries(labels)
                    series[labels] = current
                    current.runs.reset()
                    current.runs.increment(by: Int64(clamping: program.runCount ?? 0))
                    current.seconds.reset()
                    let seconds = Double(program.runTimeNs ?? 0) / 1e9
                    if seconds > 0 { current.seconds.increment(by: seconds) }
                }
            }
            for (key, gauge) in probeGauges { gauge.set(Int64(counts[key] ?? 0)) }
            for (labels, gone) in series where !seen.contains(labels) {
                registry.unregisterCounter(gone.runs)
                registry.unregisterCounter(gone.seconds)
                series[labels] = nil
            }
            return registry.emitToString()
        }
    }

    private func makeProgramSeries(_ values: [String]) -> ProgramSeries {
        let labels = zip(["probe", "program", "id", "type"], values).map { ($0, $1) }
        return ProgramSeries(
            runs: registry.makeCounter(descriptor: Self.name("program_runs", "total", Help.programRuns), labels: labels),
            seconds: registry.makeCounter(descriptor: Self.name("program_run_seconds", "total", Help.programRunSeconds), labels: labels))
    }

    // MARK: Formats

    /// The content type of the Prometheus text format.
    static let textContentType = "text/plain; version=0.0.4; charset=utf-8"
    static let openMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

    /// The same metrics in the OpenMetrics text format: a counter family
    /// is named without its `_total` suffix (its samples keep it), and the
    /// exposition ends with `# EOF`.
    static func openMetrics(_ text: String) -> String {
        var lines: [Substring] = []
        var counters: Set<Substring> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let parts = line.split(separator: " ", maxSplits: 3)
            if parts.count >= 4, parts[0] == "#", parts[1] == "TYPE", parts[3] == "counter", parts[2].hasSuffix("_total") {
                counters.insert(parts[2])
            }
            lines.append(line)
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 3)
            if parts.count >= 3, parts[0] == "#", parts[1] == "TYPE" || parts[1] == "HELP", counters.contains(parts[2]) {
                out += "# \(parts[1]) \(parts[2].dropLast("_total".count))"
                if parts.count == 4 { out += " \(parts[3])" }
            } else {
                out += line
            }
            out += "\n"
        }
        return out + "# EOF\n"
    }

    /// Whether an `Accept` header asks for OpenMetrics.
    static func wantsOpenMetrics(_ accept: String?) -> Bool {
        accept?.lowercased().contains("application/openmetrics-text") ?? false
    }
}

import ArgumentParser
import BpfleetShared

/// Completions read from the nodes the command line names: the probes
/// loaded there, and a probe's maps and programs. ArgumentParser runs the
/// closure when the shell asks (`bpfleet ---completion ...`), never when a
/// command runs.
///
/// The nodes are the ones the command would run on (-n, --selector, the
/// config file, $BPFLEET_NODE, the default socket), each asked once with
/// `probe.list`: `connectTimeout` to connect, no retry, `answerTimeout`
/// to answer. Names are those of every node that answered, sorted, without
/// repeats. Any failure (a node down, a config file that does not parse,
/// an option half typed) completes nothing and prints nothing: a shell
/// waiting on a TAB is no place for errors.
enum LiveCompletion {
    static let connectTimeout = Duration.seconds(1)
    static let answerTimeout = Duration.seconds(1)

    /// The probes on the nodes.
    static let probes = CompletionKind.custom { words, index, _ in
        await names(words, completing: index) { probes, _ in probes.map(\.name) }
    }

    /// The maps of the probe named before the word under the cursor.
    static let maps = CompletionKind.custom { words, index, _ in
        await names(words, completing: index) { probes, before in
            probe(in: probes, namedIn: before).flatMap { $0.maps.map(\.name) }
        }
    }

    /// The programs of the probe named before the word under the cursor.
    static let programs = CompletionKind.custom { words, index, _ in
        await names(words, completing: index) { probes, before in
            probe(in: probes, namedIn: before).flatMap { $0.programs.map(\.name) }
        }
    }

    /// The nodes' probes handed to `pick`, with the words typed before the
    /// cursor; what it picks, sorted and without repeats.
    static func names(_ words: [String], completing index: Int,
                      _ pick: ([ProbeDescription], [String]) -> [String]) async -> [String] {
        guard let line = CompletionWords.typed(words, completing: index),
              let probes = await probes(options: line.options) else { return [] }
        return Array(Set(pick(probes, CompletionWords.before(words, completing: index)))).sorted()
    }

    /// Every probe of every node that answered within the timeouts (a
    /// probe on several nodes appears once per node); nil when the nodes
    /// cannot be worked out.
    static func probes(options: GlobalOptions) async -> [ProbeDescription]? {
        guard let plan = try? options.plan() else { return nil }
        let fanOut = FanOut(concurrency: plan.fanOut.concurrency,
                            connectTimeout: min(plan.fanOut.connectTimeout, connectTimeout),
                            timeout: min(plan.fanOut.timeout, answerTimeout),
                            retries: 0)
        let outcomes = await fanOut.collect(plan.targets, calling: { try await $0.call(ProbeList()).probes })
        return outcomes.flatMap { (try? $0.result.get()) ?? [] }
    }

    /// The probes named by the last word before the cursor that names one
    /// (the PROBE of PROBE MAP: whatever options stand between, the probe
    /// is the nearest word that is a probe's name).
    static func probe(in probes: [ProbeDescription], namedIn before: [String]) -> [ProbeDescription] {
        guard let name = before.last(where: { word in probes.contains { $0.name == word } }) else { return [] }
        return probes.filter { $0.name == name }
    }
}

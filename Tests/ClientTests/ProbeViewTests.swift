@testable import BpfleetClient
import BpfleetShared
import Foundation
import Testing

/// `bpfleet probe get` as people read it: each link's target, kernel ids,
/// its program's run counters and its state.
@Suite struct ProbeViewTests {
    /// What `ProbeView.detail` prints for `probe`, as lines.
    private func detail(_ probe: ProbeDescription) -> [String] {
        let path = "/tmp/bpfleet-probe-view-\(UUID().uuidString.prefix(8))"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { unlink(path) }
        do {
            let stream = StandardStream(descriptor: fd)
            ProbeView.detail(probe, node: NodeTarget(address: .unix(path: "/tmp/x.sock")), TablePrinter(stream: stream, showsNode: false))
            stream.flush()
        }
        close(fd)
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// A table row's cells: columns are two or more spaces apart.
    private func cells(_ line: String) -> [String] {
        line.replacingOccurrences(of: " {2,}", with: "\t", options: .regularExpression)
            .trimmingCharacters(in: .whitespaces).split(separator: "\t").map(String.init)
    }

    private let when = Date(timeIntervalSince1970: 1_700_000_000)

    private func program(_ name: String, id: UInt32, runs: UInt64?, time: UInt64?) -> LoadedProgram {
        LoadedProgram(name: name, section: "s", type: "perf_event", id: id, tag: "abcd", verifiedInstructions: 9,
                      instructions: 9, runCount: runs, runTimeNs: time)
    }

    @Test func linksShowTargetKernelIDsRunsAndState() {
        let probe = ProbeDescription(
            name: "perf", objectId: "sha256:" + String(repeating: "a", count: 64), labels: [:], globals: [:], loadedAt: when,
            programs: [program("count_sample", id: 31, runs: 1200, time: 2_500_000), program("count_tc", id: 32, runs: 40, time: 8000)],
            maps: [],
            links: [
                LinkDescription(linkId: 1, id: 7, ids: [7, 8], program: "count_sample",
                                target: .perfEvent(event: "cpu-clock", frequency: 99), pinPath: nil, attachedAt: when, state: "attached"),
                LinkDescription(linkId: 2, id: 0, ids: [], program: "count_tc",
                                target: .tc(interface: "eth0", direction: "egress", priority: 7), pinPath: nil, attachedAt: when,
                                state: "failed", stateReason: "eth0 has no egress tc filter at priority 7"),
            ],
            origin: "adopted", state: "degraded", restoreError: "not attached again: link 2")
        let lines = detail(probe)
        #expect(lines.contains("origin         adopted"))
        #expect(lines.contains("state          degraded"))
        #expect(lines.contains("restore error  not attached again: link 2"))
        let links = Array(lines.drop { $0 != "links:" }.dropFirst())
        #expect(links.count == 3)
        #expect(links.first.map(cells) == ["LINK ID", "PROGRAM", "TARGET", "KERNEL IDS", "RUNS", "RUN TIME", "STATE"])
        #expect(links.dropFirst().first.map(cells)
                == ["1", "count_sample", "perf_event:cpu-clock@99Hz", "7,8", "1200", DisplayText.nanoseconds(2_500_000), "attached"])
        #expect(links.last.map(cells)
                == ["2", "count_tc", "tc:eth0/egress[prio=7]", "-", "40", DisplayText.nanoseconds(8000),
                    "failed: eth0 has no egress tc filter at priority 7"])
    }

    @Test func anOlderNodeWithoutIDsOrStatesOrCounters() {
        let probe = ProbeDescription(
            name: "execs", objectId: "sha256:00", labels: [:], globals: [:], loadedAt: when,
            programs: [program("count_exec", id: 5, runs: nil, time: nil)], maps: [],
            links: [LinkDescription(linkId: 3, id: 12, program: "count_exec", target: .tracepoint(category: "sched", name: "sched_process_exec"),
                                    pinPath: nil, attachedAt: when)])
        let lines = detail(probe)
        #expect(!lines.contains { $0.hasPrefix("state") || $0.hasPrefix("origin") })
        let links = Array(lines.drop { $0 != "links:" }.dropFirst())
        #expect(links.first.map(cells) == ["LINK ID", "PROGRAM", "TARGET", "KERNEL IDS", "RUNS", "STATE"])
        #expect(links.last.map(cells) == ["3", "count_exec", "tracepoint:sched/sched_process_exec", "12", "-", "-"])
    }
}

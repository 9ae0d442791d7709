import BpfleetClient
import BpfleetShared
import Foundation
import Testing

/// How `apply` and `status` compare a node's probe with the manifest's.
struct ProbeDriftTests {
    static let exec = AttachTarget.tracepoint(category: "sched", name: "sched_process_exec")
    static let fork = AttachTarget.tracepoint(category: "sched", name: "sched_process_fork")

    static func wanted(attach: [ProbeLoad.Attachment] = [.init(program: "count_exec", target: exec)]) -> DesiredProbe {
        DesiredProbe(name: "execs", objectId: "sha256:aa", upload: nil, programs: nil, globals: ["limit": 5],
                     labels: ["team": "obs", "bpfleet.io/spec": "sha256:11"], attach: attach)
    }

    static func link(_ linkId: Int, _ target: AttachTarget, program: String = "count_exec", state: String? = "attached") -> LinkDescription {
        LinkDescription(linkId: linkId, id: UInt32(100 + linkId), program: program, target: target, pinPath: nil,
                        attachedAt: Date(timeIntervalSince1970: 0), state: state)
    }

    static func probe(links: [LinkDescription] = [link(1, exec)], labels: [String: String] = ["team": "obs", "bpfleet.io/spec": "sha256:11"],
                      objectId: String = "sha256:aa", globals: [String: JSONValue] = ["limit": 5], state: String? = "running") -> ProbeDescription {
        ProbeDescription(name: "execs", objectId: objectId, labels: labels, globals: globals, loadedAt: Date(timeIntervalSince1970: 0),
                         programs: [LoadedProgram(name: "count_exec", section: "tracepoint/sched/sched_process_exec", type: "tracepoint", id: 7,
                                                  tag: "00", verifiedInstructions: nil, instructions: 10, runCount: nil, runTimeNs: nil)],
                         maps: [], links: links, state: state)
    }

    @Test func theSameProbeIsInSync() {
        #expect(ProbeDrift.of(Self.probe(), against: Self.wanted()) == .inSync)
        #expect(ProbeDrift.of(Self.probe(state: nil), against: Self.wanted()) == .inSync)  // an older server
    }

    @Test func noProbeIsMissing() {
        #expect(ProbeDrift.of(nil, against: Self.wanted()) == .missing)
        #expect(ProbeDrift.of(nil, against: Self.wanted()).word == "missing")
    }

    @Test func anotherSpecOrAHandMadeChangeIsAnotherSpec() {
        #expect(ProbeDrift.of(Self.probe(labels: ["team": "obs", "bpfleet.io/spec": "sha256:22"]), against: Self.wanted()) == .otherSpec("sha256:22"))
        #expect(ProbeDrift.of(Self.probe(labels: ["team": "obs"]), against: Self.wanted()) == .otherSpec(nil))
        // Same label, but changed by hand: object, globals, labels.
        #expect(ProbeDrift.of(Self.probe(objectId: "sha256:bb"), against: Self.wanted()) == .otherSpec("sha256:11"))
        #expect(ProbeDrift.of(Self.probe(globals: ["limit": 6]), against: Self.wanted()) == .otherSpec("sha256:11"))
        #expect(ProbeDrift.of(Self.probe(labels: ["team": "dev", "bpfleet.io/spec": "sha256:11"]), against: Self.wanted()) == .otherSpec("sha256:11"))
        // Map settings other than the node's, or none where it has some.
        var sized = Self.wanted()
        sized.maps = ["pids": MapSettings(maxEntries: 4096)]
        #expect(ProbeDrift.of(Self.probe(), against: sized) == .otherSpec("sha256:11"))
        var sizedProbe = Self.probe()
        sizedProbe.mapSettings = ["pids": MapSettings(maxEntries: 4096)]
        #expect(ProbeDrift.of(sizedProbe, against: sized) == .inSync)
        #expect(ProbeDrift.of(sizedProbe, against: Self.wanted()) == .otherSpec("sha256:11"))
        #expect(DesiredProbe(restoring: sizedProbe, keepMaps: []).maps == ["pids": MapSettings(maxEntries: 4096)])
        // Map exports other than the node's.
        var exported = Self.wanted()
        exported.metrics = [MetricExport(map: "counts", name: "execs_total", kind: "counter")]
        #expect(ProbeDrift.of(Self.probe(), against: exported) == .otherSpec("sha256:11"))
        var exportingProbe = Self.probe()
        exportingProbe.metrics = exported.metrics
        #expect(ProbeDrift.of(exportingProbe, against: exported) == .inSync)
        #expect(ProbeDrift.of(exportingProbe, against: Self.wanted()) == .otherSpec("sha256:11"))
        #expect(DesiredProbe(restoring: exportingProbe, keepMaps: []).metrics == exported.metrics)
        var fewer = Self.wanted()
        fewer.programs = ["other"]
        #expect(ProbeDrift.of(Self.probe(), against: fewer) == .otherSpec("sha256:11"))
        #expect(ProbeDrift.of(Self.probe(labels: ["team": "obs"]), against: Self.wanted()).detail
            == "not applied from a manifest (no bpfleet.io/spec label)")
    }

    @Test func linksArePairedByProgramAndTargetInAnyOrder() {
        let two = Self.wanted(attach: [.init(program: "count_exec", target: Self.exec), .init(program: "count_exec", target: Self.fork)])
        #expect(ProbeDrift.of(Self.probe(links: [Self.link(4, Self.fork), Self.link(9, Self.exec)]), against: two) == .inSync)
        // One detached by hand, one extra attached by hand, one the kernel let go of.
        #expect(ProbeDrift.of(Self.probe(links: [Self.link(1, Self.exec)]), against: two)
            == .links(missing: [.init(program: "count_exec", target: Self.fork)], extra: []))
        #expect(ProbeDrift.of(Self.probe(links: [Self.link(1, Self.exec), Self.link(2, Self.fork), Self.link(3, Self.exec)]), against: two)
            == .links(missing: [], extra: [3]))
        let gone = ProbeDrift.of(Self.probe(links: [Self.link(1, Self.exec), Self.link(2, Self.fork, state: "missing")]), against: two)
        #expect(gone == .links(missing: [.init(program: "count_exec", target: Self.fork)], extra: [2]))
        #expect(gone.word == "different")
        #expect(gone.detail == "1 link missing; extra link 2")
        // The same target twice is wanted twice.
        let twice = Self.wanted(attach: [.init(program: "count_exec", target: Self.exec), .init(program: "count_exec", target: Self.exec)])
        #expect(ProbeDrift.of(Self.probe(), against: twice) == .links(missing: [.init(program: "count_exec", target: Self.exec)], extra: []))
    }

    @Test func aDegradedProbeIsUnhealthy() {
        #expect(ProbeDrift.of(Self.probe(state: "degraded"), against: Self.wanted()) == .unhealthy("degraded"))
    }

    @Test func aRollbackTargetIsTheProbeAsItWas() {
        let before = Self.probe(links: [Self.link(2, Self.fork), Self.link(1, Self.exec)], labels: ["team": "old"])
        let restoring = DesiredProbe(restoring: before, keepMaps: ["counts"])
        #expect(restoring.attach == [.init(program: "count_exec", target: Self.exec), .init(program: "count_exec", target: Self.fork)])
        #expect(restoring.programs == ["count_exec"])
        #expect(restoring.spec == nil)
        #expect(restoring.upload == nil)
        #expect(ProbeDrift.of(before, against: restoring) == .inSync)
        #expect(ProbeDrift.of(Self.probe(), against: restoring) == .otherSpec("sha256:11"))
    }
}

@testable import BpfleetClient
import BpfleetShared
import Testing

@Suite("verify: verdicts grouped by kernel, and rollout.preflight")
struct VerifyGroupingTests {
    typealias Verdict = ProbeVerify.ProgramVerdict

    static let ok = Verdict(name: "count_exec", section: "tracepoint/sched/sched_process_exec", type: "tracepoint", verdict: "verified",
                            instructions: 40, verifiedInstructions: 39)

    func result(_ kernel: String, _ programs: [Verdict]) -> Result<ProbeVerify.Result, NodeFailure> {
        .success(ProbeVerify.Result(kernelRelease: kernel, programs: programs, missingFeatures: [:]))
    }

    @Test("one line per kernel and verdict, nodes in the order given, failures last")
    func grouping() {
        let refused = Verdict(name: "count_exec", section: "tracepoint/sched/sched_process_exec", type: "tracepoint", verdict: "unsupported",
                              reason: "program 'count_exec' cannot be served on this node: policy",
                              missingFeature: "program type tracepoint (refused by this node's policy)")
        let rejected = Verdict(name: "read_past", section: "raw_tracepoint/sys_exit", type: "raw_tracepoint", verdict: "rejected",
                               reason: "the verifier rejected program 'read_past': invalid access\nsecond line", log: "...")
        let groups = VerifyGroup.groups([
            ("a", result("6.1.0", [Self.ok])),
            ("down", .failure(NodeFailure(kind: "unreachable", code: nil, message: "connection refused\nretried", data: nil, unreachable: true))),
            ("b", result("6.8.0", [Self.ok])),
            ("c", result("6.1.0", [Self.ok])),
            ("d", result("6.1.0", [refused])),
            ("e", result("6.8.0", [Self.ok, rejected])),
            ("f", result("6.1.0", [refused])),
        ])
        #expect(groups == [
            VerifyGroup(kernel: "6.1.0", nodes: ["a", "c"], verdict: "verified: count_exec (40 insns)", ok: true),
            VerifyGroup(kernel: "6.8.0", nodes: ["b"], verdict: "verified: count_exec (40 insns)", ok: true),
            VerifyGroup(kernel: "6.1.0", nodes: ["d", "f"], verdict: "count_exec unsupported: program type tracepoint (refused by this node's policy)", ok: false),
            VerifyGroup(kernel: "6.8.0", nodes: ["e"], verdict: "read_past rejected: the verifier rejected program 'read_past': invalid access", ok: false),
            VerifyGroup(kernel: "-", nodes: ["down"], verdict: "unreachable: connection refused", ok: false),
        ])
    }

    @Test("no nodes, no lines")
    func empty() {
        #expect(VerifyGroup.groups([]) == [])
    }

    @Test("rollout.preflight: false by default, true or false when written, anything else refused naming its line")
    func preflight() throws {
        let fixture = try ManifestFixture()
        let plain = try fixture.parse("probe: p\nobject: build/probe.bpf.o\n")
        #expect(plain.rollout.preflight == false)
        let on = try fixture.parse("probe: p\nobject: build/probe.bpf.o\nrollout:\n  preflight: true\n")
        #expect(on.rollout.preflight == true)
        var expected = RolloutPolicy()
        expected.preflight = true
        #expect(on.rollout == expected)
        let off = try fixture.parse("probe: p\nobject: build/probe.bpf.o\nrollout: {preflight: false, canary: 2}\n")
        #expect(off.rollout == RolloutPolicy(canary: 2))
        let wrong = fixture.error("probe: p\nobject: build/probe.bpf.o\nrollout:\n  preflight: yes please\n")
        #expect(wrong.map { "\($0)" } == "probe.yaml:4:14: rollout.preflight: expected true or false, got the string 'yes please'")
    }
}

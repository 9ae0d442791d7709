@testable import BpfleetServer
import BpfleetShared
import Testing

@Suite("probe.verify's role")
struct VerifyRoleTests {
    @Test("probe.verify needs the operator role and is audited, as object.upload and probe.load are")
    func operatorRole() {
        #expect(Role.needed(by: ProbeVerify.self) == .operator)
        #expect(ProbeVerify.changesNode)
        #expect(ProbeVerify(objectId: "sha256:ab", programs: ["p"]).auditTargets == ["objectId": "sha256:ab", "programs": ["p"]])
    }

    @Test("--refuse-program-types takes libbpf's names, once each, and nothing else")
    func policyParsing() throws {
        #expect(try ProgramTypePolicy.parse("kprobe,lsm,kprobe") == ["kprobe", "lsm"])
        #expect(throws: ProgramTypePolicy.PolicyError.self) { try ProgramTypePolicy.parse("kprobe,") }
        #expect(throws: ProgramTypePolicy.PolicyError.self) { try ProgramTypePolicy.parse("fentry") }
    }
}

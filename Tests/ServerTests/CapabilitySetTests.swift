@testable import BpfleetServer
import Testing

/// Capability sets as the kernel numbers them and as logs name them; the
/// documented sets are the masks /proc/PID/status shows.
@Suite("Capability sets")
struct CapabilitySetTests {
    @Test func theDocumentedSetsAreTheMasksProcShows() {
        #expect(LeastPrivilege.serverSet.rawValue == 0x0000_00c0_0028_1000)
        #expect(LeastPrivilege.helperSet.rawValue == 0x0000_00c0_0000_1000)
        #expect(LeastPrivilege.serverSet.isSuperset(of: LeastPrivilege.helperSet))
        #expect(LeastPrivilege.server.count == 5)
    }

    @Test func namesAreTheKernelsLowestNumberFirst() {
        #expect(LeastPrivilege.serverSet.description == "CAP_NET_ADMIN CAP_SYS_PTRACE CAP_SYS_ADMIN CAP_PERFMON CAP_BPF")
        #expect(CapabilitySet([.chown, .dacReadSearch, .syslog]).names == ["CAP_CHOWN", "CAP_DAC_READ_SEARCH", "CAP_SYSLOG"])
        #expect(CapabilitySet().description == "none")
        // A capability newer than the table still reads as its number.
        #expect(CapabilitySet(rawValue: 1 << 45).description == "CAP_45")
        #expect(CapabilitySet(rawValue: 1 << 40).description == "CAP_CHECKPOINT_RESTORE")
    }

    @Test func aLoadRefusedForPermissionSaysWhatLoadingNeedsAndWhatThisProcessLacks() {
        let needs = "loading needs CAP_BPF, and CAP_PERFMON for tracing programs, CAP_NET_ADMIN for XDP, tc and other network programs"
        let missing = LeastPrivilege.helperSet.subtracting(CapabilitySet.current()?.effective ?? [])
        // Root has the three; another user none.
        #expect(LeastPrivilege.loadingNeeds == (missing.isEmpty ? needs : needs + "; bpfleetd runs without \(missing)"))
    }
}

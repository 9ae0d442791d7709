import BpfleetShared
import Foundation
import TestSupport
import Testing

/// bpfleetd under exactly the capabilities docs/security.md documents
/// ("Least privilege"), given as systemd's CapabilityBoundingSet= gives
/// them (setpriv: bounding set, no inheritable or ambient ones, uid 0):
/// the suites' own load, attach and map tests of every target type this
/// kernel serves pass under it; bpfleetd and its object helper end up with
/// exactly the documented sets; and a bpfleetd given less starts, names
/// what it lacks, and fails only what needs it.
@Suite(.requiresKernel)
struct LeastPrivilegeTests {
    /// The documented set, as setpriv names it.
    static let documented = ["bpf", "perfmon", "net_admin", "sys_admin", "sys_ptrace"]
    /// The same as /proc/PID/status shows it: CAP_NET_ADMIN (12),
    /// CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21), CAP_PERFMON (38), CAP_BPF (39).
    static let documentedMask: UInt64 = 1 << 12 | 1 << 19 | 1 << 21 | 1 << 38 | 1 << 39
    /// The object helper's: CAP_NET_ADMIN, CAP_PERFMON, CAP_BPF.
    static let helperMask: UInt64 = 1 << 12 | 1 << 38 | 1 << 39

    /// Runs `body` with every bpfleetd it starts under `capabilities`.
    func under(_ capabilities: [String] = documented, _ body: () async throws -> Void) async throws {
        try await ServerProcess.$capabilities.withValue(capabilities) { try await body() }
    }

    /// A process's capability sets and no_new_privs, from /proc/PID/status.
    static func status(of pid: Int32) throws -> [String: UInt64] {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        var fields: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0].hasPrefix("Cap") || parts[0] == "NoNewPrivs" else { continue }
            fields[parts[0]] = UInt64(parts[1], radix: parts[0] == "NoNewPrivs" ? 10 : 16)
        }
        return fields
    }

    static func sysctl(_ name: String) throws -> Int {
        let text = try String(contentsOfFile: "/proc/sys/" + name, encoding: .utf8)
        guard let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestFailure("/proc/sys/\(name): \(text)") }
        return value
    }

    /// bpfleetd's children: its object helper.
    static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0) }
        }
    }

    /// Started as root with every capability, or under exactly the
    /// documented set, bpfleetd keeps the documented set in every thread and
    /// its helper keeps what loading needs, neither can gain more by exec.
    @Test(arguments: [nil, documented])
    func bpfleetdAndItsHelperKeepExactlyTheDocumentedSets(startedWith capabilities: [String]?) async throws {
        let server = try ServerProcess.start(capabilities: capabilities)
        defer { server.stop() }
        let client = try server.client()
        try client.load("exec_count", as: "execs")  // the helper has loaded: it runs

        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/task")
        #expect(threads.count > 1)
        for thread in threads {
            // Capabilities belong to threads: /proc/TID/status shows each one's.
            let sets = try Self.status(of: try #require(Int32(thread)))
            #expect(sets["CapEff"] == Self.documentedMask, "thread \(thread)")
            #expect(sets["CapPrm"] == Self.documentedMask, "thread \(thread)")
            #expect(sets["CapBnd"] == Self.documentedMask, "thread \(thread)")
            #expect(sets["CapInh"] == 0, "thread \(thread)")
            #expect(sets["CapAmb"] == 0, "thread \(thread)")
            #expect(sets["NoNewPrivs"] == 1, "thread \(thread)")
        }
        let helpers = Self.children(of: server.pid)
        #expect(helpers.count == 1)
        for helper in helpers {
            let sets = try Self.status(of: helper)
            #expect(sets["CapEff"] == Self.helperMask)
            #expect(sets["CapPrm"] == Self.helperMask)
            // Shrinking a bounding set takes CAP_SETPCAP: a helper started
            // by a bpfleetd that had it (before its own drop) shrinks its
            // bounding set too; one started without it keeps bpfleetd's,
            // from which no_new_privs lets no exec gain anything.
            #expect(sets["CapBnd"] == (capabilities == nil ? Self.helperMask : Self.documentedMask))
            #expect(sets["CapInh"] == 0)
            #expect(sets["CapAmb"] == 0)
            #expect(sets["NoNewPrivs"] == 1)
        }
        #expect(server.log.contains("kept=CAP_NET_ADMIN CAP_SYS_PTRACE CAP_SYS_ADMIN CAP_PERFMON CAP_BPF"))
        // Without CAP_SYSLOG at start, kallsyms hides its addresses unless
        // the kernel shows them to anyone; bpfleetd says so once.
        let kptrRestrict = try Self.sysctl("kernel/kptr_restrict"), paranoid = try Self.sysctl("kernel/perf_event_paranoid")
        let hidden = kptrRestrict >= 2 || (capabilities != nil && !(kptrRestrict == 0 && paranoid <= 1))
        #expect(server.log.components(separatedBy: "/proc/kallsyms shows bpfleetd no addresses").count - 1 == (hidden ? 1 : 0))
        #expect(!server.log.contains("bpfleetd runs without"))
        try client.call("probe.unload", ["probe": "execs"])
        #expect(server.pins().isEmpty)
    }

    /// --keep-capabilities: bpfleetd and its helper keep what they were
    /// started with, one more than the set here, and say so.
    @Test func keepCapabilitiesLeavesBpfleetdAndItsHelperAsStarted() async throws {
        let server = try ServerProcess.start(["--keep-capabilities"], capabilities: Self.documented + ["dac_read_search"])
        defer { server.stop() }
        let client = try server.client()
        try client.load("exec_count", as: "execs")
        let started = Self.documentedMask | 1 << 2  // CAP_DAC_READ_SEARCH
        let helpers = Self.children(of: server.pid)
        #expect(helpers.count == 1)
        for pid in [server.pid] + helpers {
            let sets = try Self.status(of: pid)
            #expect(sets["CapEff"] == started, "pid \(pid)")
            #expect(sets["CapBnd"] == started, "pid \(pid)")
            #expect(sets["NoNewPrivs"] == 0, "pid \(pid)")
        }
        #expect(server.log.contains("capabilities not dropped (--keep-capabilities)"))
        #expect(!server.log.contains("capabilities dropped"))
        try client.call("probe.unload", ["probe": "execs"])
        #expect(server.pins().isEmpty)
    }

    // The suites' own tests, each under the documented set.

    @Test func tracepointAndRawTracepointLoadAttachAndCountExactly() async throws {
        try await under {
            try await ProbeLifecycleTests().execCounterCountsEveryExecAndUnloadLeavesNothing()
            try await ProbeLifecycleTests().rawTracepointCountsOneProcessThroughAConstGlobal()
            try await ProbeLifecycleTests().structValuesWithCharArraysDecodeAndEncode()
        }
    }

    @Test func tpBtfUprobeCgroupAndPerfEventCountExactly() async throws {
        try await under {
            try await ProcessTargetTests().tpBtfCountsEveryExec()
            try await ProcessTargetTests().uprobeCountsEveryCallBySymbolAndByOffset()
            try await ProcessTargetTests().cgroupProgramsCountOnlyTheirCgroup()
            try await ProcessTargetTests().perfEventSamplesOnEveryCPUWithOneLinkEach()
        }
    }

    @Test func usdtUretprobeAndAUprobeOnOnePIDCountExactly() async throws {
        try await under {
            try await UserTargetTests().usdtCountsEveryHitAndReadsItsArgument()
            try await UserTargetTests().uretprobeCountsEveryReturn()
            try await UserTargetTests().aUprobeWithAPIDCountsOnlyThatProcess()
            try await SectionTargetTests().aLibraryNamedAsLibbpfNamesItIsFoundOnTheNode()
        }
    }

    @Test func xdpAndTcCountExactlyThePacketsSent() async throws {
        try await under {
            try await NetworkTargetTests().xdpCountsExactlyThePacketsSentInNativeAndGenericMode()
            try await NetworkTargetTests().tcCountsIngressAndEgressSeparately()
        }
    }

    @Test func ringAndPerfBufferEventsArriveOnceDecoded() async throws {
        try await under {
            try await EventsTests().everyExecArrivesOnceDecoded(program: "execsnoop", map: "events")
            try await EventsTests().everyExecArrivesOnceDecoded(program: "execsnoop_perf", map: "perf_events")
        }
    }

    @Test func kprobeFentryAndLSMStillGetTheCleanUnsupportedError() async throws {
        try await under {
            try await UnsupportedTargetTests().kprobeIsRefusedNamingConfigKprobesOrCounts()
            try await UnsupportedTargetTests().trampolineProgramsAreRefusedNamingTheFeatureOrAttach(
                program: "fentry_count", kind: "fentry", feature: "fentry (BPF trampoline)")
            try await UnsupportedTargetTests().trampolineProgramsAreRefusedNamingTheFeatureOrAttach(
                program: "lsm_file_open", kind: "lsm", feature: "lsm (CONFIG_BPF_LSM / lsm=bpf)")
        }
    }

    @Test func adoptedXDPAndCgroupLinksCountOnAfterARestart() async throws {
        try await under {
            try await AdoptionTargetTests().xdpAndCgroupLinksAreAdoptedAndCountExactly()
        }
    }

    /// The cost of not keeping CAP_DAC_READ_SEARCH: a uprobe target in a
    /// directory only its owner (not root) may enter is refused, EACCES;
    /// --keep-capabilities with the capability given attaches and counts.
    @Test func aUprobeTargetOnlyItsOwnerMayReadNeedsKeepCapabilities() async throws {
        let target = try UprobeTarget.build()
        defer { target.remove() }
        guard chown(target.directory, 65534, 65534) == 0, chmod(target.directory, 0o700) == 0 else {
            throw TestFailure("cannot give \(target.directory) to nobody: \(String(cString: strerror(errno)))")
        }
        let attach: JSONValue = ["probe": "calls", "program": "count_call",
                                 "target": ["type": "uprobe", "binary": .string(target.path), "symbol": .string(UprobeTarget.symbol)]]
        try await under {
            try await withServer { server in
                let client = try server.client()
                try client.load("uprobe_count", as: "calls")
                let refused = try client.callError("probe.attach", attach)
                #expect(refused.code == .invalidParams)
                #expect(refused.message == "target.binary: bpfleetd may not reach \(target.path) (Permission denied): a directory on its path is closed to root without CAP_DAC_READ_SEARCH, which bpfleetd does not keep unless started with --keep-capabilities")
                #expect(refused.data?["field"] == "target.binary")
                #expect(refused.data?["errnoName"] == "EACCES")
                try client.call("probe.unload", ["probe": "calls"])
                #expect(server.pins().isEmpty)
            }
        }
        try await under(Self.documented + ["dac_read_search"]) {
            try await withServer(["--keep-capabilities"]) { server in
                let client = try server.client()
                try client.load("uprobe_count", as: "calls")
                try client.call("probe.attach", attach)
                try target.call(times: 6)
                #expect(try client.counter("calls", "uprobe_calls", 0) == 6)
                try client.call("probe.unload", ["probe": "calls"])
                #expect(server.pins().isEmpty)
            }
        }
    }

    /// Without CAP_NET_ADMIN bpfleetd starts, says once what it lacks and
    /// what fails for it; an XDP or tc program is refused naming the
    /// capability, and a tracepoint counts as ever.
    @Test func withoutNetAdminItStartsNamesItAndRefusesOnlyNetworkPrograms() async throws {
        let server = try ServerProcess.start(capabilities: Self.documented.filter { $0 != "net_admin" })
        defer { server.stop() }
        let warnings = server.log.split(separator: "\n").filter { $0.contains("bpfleetd runs without") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasSuffix("warning bpfleetd: [BpfleetServer] bpfleetd runs without CAP_NET_ADMIN; what needs it fails with an error: CAP_NET_ADMIN (XDP and tc targets (netlink, tcx links) and programs of the network types)") == true,
                "\(warnings)")
        #expect(try Self.status(of: server.pid)["CapEff"] == Self.documentedMask & ~(1 << 12))

        let client = try server.client()
        for program in ["xdp_count", "tc_count"] {
            let error = try client.callError("probe.load", ["name": "net", "objectId": .string(try client.upload(program)),
                                                             "globals": ["target_port": 1]])
            #expect(error.code == .kernelError, "\(error)")
            #expect(error.message == "the kernel refused the load: Operation not permitted (loading needs CAP_BPF, and CAP_PERFMON for tracing programs, CAP_NET_ADMIN for XDP, tc and other network programs; bpfleetd runs without CAP_NET_ADMIN)",
                    "\(error)")
            #expect(error.data?["errnoName"] == "EPERM", "\(error)")
        }
        #expect(try client.call("probe.list")["probes"] == [])

        try client.load("exec_count", as: "execs")
        try client.call("probe.attach", ["probe": "execs", "program": "count_exec", "target": ["type": "auto"]])
        let binary = try Workload.uniqueBinary()
        defer { binary.cleanup() }
        try Workload.exec(binary.path, times: 4)
        #expect(try client.counter("execs", "exec_counts", ["comm": .string(binary.comm)]) == 4)
        try client.call("probe.unload", ["probe": "execs"])
        #expect(server.pins().isEmpty)
    }
}

import CBPFSupport
import Foundation
import Logging

/// What bpfleetd and its object helper keep of root's capabilities once
/// they have started, and why (docs/security.md, "Least privilege").
/// Every capability not named here is dropped from the bounding,
/// permitted, effective, inheritable and ambient sets of every thread.
public enum LeastPrivilege {
    /// A capability kept, and what needs it: what stops working without it.
    public struct Need: Sendable {
        public var capability: CapabilitySet
        public var needs: String
    }

    /// bpfleetd's set: each, with the features that fail without it (found
    /// by running the end-to-end suites without it).
    public static let server: [Need] = [
        Need(capability: .bpf, needs: "loading programs, creating maps and BTF"),
        Need(capability: .perfmon,
             needs: "tracing programs (tracepoint, raw_tp, tp_btf, uprobe, usdt, perf_event, iterators) and their perf events"),
        Need(capability: .netAdmin, needs: "XDP and tc targets (netlink, tcx links) and programs of the network types"),
        Need(capability: .sysAdmin,
             needs: "a probe's BTF read back by id (typed map keys and values, event records), the node inventory and foreign maps (BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID), uprobe and usdt attach"),
        Need(capability: .sysPtrace,
             needs: "the processes holding a BPF object (/proc/PID/fdinfo) and user stacks of other processes (/proc/PID/maps)"),
    ]

    /// The capabilities bpfleetd keeps.
    public static let serverSet = server.reduce(CapabilitySet()) { $0.union($1.capability) }

    /// The object helper's set: it opens, loads, pins and verifies, and
    /// attaches nothing; BTF by id, the inventory and /proc are bpfleetd's.
    public static let helperSet: CapabilitySet = [.bpf, .perfmon, .netAdmin]

    /// What loading needs, and what of it this process lacks: the reason
    /// of a load the kernel refused with EPERM or EACCES.
    static var loadingNeeds: String {
        let needs = "loading needs CAP_BPF, and CAP_PERFMON for tracing programs, CAP_NET_ADMIN for XDP, tc and other network programs"
        let missing = helperSet.subtracting(CapabilitySet.current()?.effective ?? [])
        return missing.isEmpty ? needs : needs + "; bpfleetd runs without \(missing)"
    }

    public struct DropFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Limits every thread of this process to `keep` (what of it the
    /// process has) and sets no_new_privs: what it kept, and what of
    /// `keep` it never had.
    @discardableResult
    public static func limit(to keep: CapabilitySet) throws(DropFailure) -> (kept: CapabilitySet, missing: CapabilitySet) {
        // Each thread runs the handler that drops its own capabilities as
        // soon as it is scheduled; 30 s is for a machine loaded far past
        // its cores, not for a thread that is busy (a handler interrupts).
        guard bpfleet_capabilities_limit(keep.rawValue, 1, 30_000) == 0 else {
            let code = errno
            throw DropFailure(description: "could not drop the capabilities outside \(keep) in every thread: \(String(cString: strerror(code)))")
        }
        let permitted = CapabilitySet.current()?.permitted ?? []
        return (permitted, keep.subtracting(permitted))
    }

    /// bpfleetd after start-up: drops what it does not need, logs what it
    /// kept, and warns once, naming them, of the capabilities it lacks and
    /// the features that fail without them.
    static func limitServer(logger: Logger) throws {
        let before = CapabilitySet.current()
        let result: (kept: CapabilitySet, missing: CapabilitySet)
        do throws(DropFailure) {
            result = try limit(to: serverSet)
        } catch {
            throw StartupError("\(error.description); --keep-capabilities starts without dropping any")
        }
        let bounding = CapabilitySet.current()?.bounding ?? []
        logger.info("capabilities dropped", metadata: [
            "kept": "\(result.kept)",
            "dropped": "\((before?.permitted ?? []).subtracting(result.kept))",
            "bounding": "\(bounding)",
        ])
        if !result.missing.isEmpty {
            let unavailable = server.filter { result.missing.contains($0.capability) }
                .map { "\($0.capability) (\($0.needs))" }.joined(separator: "; ")
            logger.warning("bpfleetd runs without \(result.missing); what needs it fails with an error: \(unavailable)")
        }
    }
}

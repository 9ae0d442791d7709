import BpfleetShared
import CLibBPF
import Foundation

/// What this kernel can do, probed once at start (node.info reports it and
/// attach refuses early, naming what is missing).
struct KernelFeatures: Sendable {
    struct Missing: Sendable, Hashable {
        var feature: String
        var reason: String
    }

    var kernelRelease: String
    var arch: String
    var btf: Bool
    var programTypes: [String]
    var mapTypes: [String]
    var tracefs: String?
    /// Target type → why it cannot be used here.
    var unsupportedTargets: [String: Missing]

    /// tcx links for tc programs (Linux 6.6); without them `tc` targets use
    /// a filter on the clsact qdisc (ClassicTCFilter).
    var tcx = false
    /// A hardware PMU that perf_event targets like `cycles` can sample.
    var hardwarePerfEvents = false
    /// Program types this node refuses by its policy (`--refuse-program-types`, KernelFeatures+Policy).
    var refusedProgramTypes: [String] = []

    /// Feature names tests may pretend are missing, through the environment
    /// variable BPFLEETD_PRETEND_MISSING (comma-separated), to exercise the
    /// refusals and fallbacks on kernels that have everything.
    static let pretendable: Set<String> = ["kprobe", "uprobe", "fentry", "lsm", "tcx", "hardware-perf"]

    static func probe() -> KernelFeatures {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        var programTypes: [String] = []
        for raw in 1..<64 {
            let type = bpf_prog_type(rawValue: UInt32(raw))
            guard let text = libbpf_bpf_prog_type_str(type) else { break }
            if libbpf_probe_bpf_prog_type(type, nil) == 1 { programTypes.append(String(cString: text)) }
        }
        var mapTypes: [String] = []
        for raw in 1..<64 {
            let type = bpf_map_type(rawValue: UInt32(raw))
            guard let text = libbpf_bpf_map_type_str(type) else { break }
            if libbpf_probe_bpf_map_type(type, nil) == 1 { mapTypes.append(String(cString: text)) }
        }
        let pretend = Set((ProcessInfo.processInfo.environment["BPFLEETD_PRETEND_MISSING"] ?? "")
            .split(separator: ",").map { String($0) }).intersection(pretendable)
        let tracefs = Filesystems.tracefsPath()
        var unsupported: [String: Missing] = [:]
        if tracefs == nil {
            unsupported["tracepoint"] = Missing(feature: "tracefs", reason: "tracefs is not mounted at /sys/kernel/tracing (mount -t tracefs tracefs /sys/kernel/tracing)")
        }
        if pretend.contains("kprobe") || !FileManager.default.fileExists(atPath: "/sys/bus/event_source/devices/kprobe") {
            unsupported["kprobe"] = Missing(feature: "CONFIG_KPROBES", reason: "the kernel has no kprobe support (CONFIG_KPROBES: no kprobe event source in /sys/bus/event_source/devices)")
        }
        if pretend.contains("uprobe") || !FileManager.default.fileExists(atPath: "/sys/bus/event_source/devices/uprobe") {
            let missing = Missing(feature: "CONFIG_UPROBE_EVENTS", reason: "the kernel has no uprobe support (CONFIG_UPROBE_EVENTS: no uprobe event source in /sys/bus/event_source/devices)")
            unsupported["uprobe"] = missing
            unsupported["usdt"] = missing
        }
        if let why = pretend.contains("fentry") ? "pretended missing (BPFLEETD_PRETEND_MISSING)" : FeatureProbe.fentry() {
            let missing = Missing(feature: "fentry (BPF trampoline)", reason: "the kernel refuses fentry/fexit programs (BPF trampolines): \(why)")
            unsupported["fentry"] = missing
            unsupported["fexit"] = missing
        }
        // LSM programs attach through `auto`; listed so node.info says why not.
        if let why = pretend.contains("lsm") ? "pretended missing (BPFLEETD_PRETEND_MISSING)" : FeatureProbe.lsm() {
            unsupported["lsm"] = Missing(feature: "lsm (CONFIG_BPF_LSM / lsm=bpf)",
                                         reason: "the kernel refuses BPF LSM programs (needs CONFIG_BPF_LSM and \"bpf\" in the lsm= boot list): \(why)")
        }
        var features = KernelFeatures(
            kernelRelease: field(name.release), arch: field(name.machine),
            btf: FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux"),
            programTypes: programTypes, mapTypes: mapTypes, tracefs: tracefs, unsupportedTargets: unsupported)
        features.tcx = !pretend.contains("tcx") && FeatureProbe.tcx()
        features.hardwarePerfEvents = !pretend.contains("hardware-perf") && FeatureProbe.hardwarePerfEvents()
        return features
    }
}

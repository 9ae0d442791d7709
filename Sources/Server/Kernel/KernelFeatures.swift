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

    /// Target types this bpfleetd serves at all (the rest come later).
    static let servedTargets: Set<String> = ["tracepoint", "raw_tracepoint", "auto"]

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
        let tracefs = Filesystems.tracefsPath()
        var unsupported: [String: Missing] = [:]
        if tracefs == nil {
            unsupported["tracepoint"] = Missing(feature: "tracefs", reason: "tracefs is not mounted at /sys/kernel/tracing (mount -t tracefs tracefs /sys/kernel/tracing)")
        }
        if !FileManager.default.fileExists(atPath: "/sys/bus/event_source/devices/kprobe") {
            unsupported["kprobe"] = Missing(feature: "CONFIG_KPROBES", reason: "the kernel has no kprobe support (CONFIG_KPROBES: no kprobe event source in /sys/bus/event_source/devices)")
        }
        for target in AttachTarget.allTypes where !servedTargets.contains(target) && unsupported[target] == nil {
            unsupported[target] = Missing(feature: "bpfleetd:\(target)", reason: "\(target) targets are not served by this bpfleetd version yet")
        }
        return KernelFeatures(
            kernelRelease: field(name.release), arch: field(name.machine),
            btf: FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux"),
            programTypes: programTypes, mapTypes: mapTypes, tracefs: tracefs, unsupportedTargets: unsupported)
    }
}

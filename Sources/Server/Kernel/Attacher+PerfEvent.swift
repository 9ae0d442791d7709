import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// `perf_event` targets: one sampling perf event per online CPU, each with
/// its own link, all owned by one BPFLink (pinned as `links/ID/cpuN`).
extension Attacher {
    func attachPerfEvent(_ program: AttachProgram, event: String, frequency: UInt64, target: AttachTarget) throws(KernelError) -> BPFLink {
        try require(program.type, [BPF_PROG_TYPE_PERF_EVENT], program: program.name, target: target)
        guard let kind = PerfEventKind.named(event) else {
            let names = PerfEventKind.all.map(\.name)
            throw KernelError.invalidArgument(message: "target.event: '\(event)' is not a perf event bpfleetd knows (one of: \(names.joined(separator: ", ")))",
                                data: ["field": "target.event", "allowed": .array(names.map(JSONValue.string))])
        }
        let limit = Self.maximumSampleRate()
        guard frequency >= 1, frequency <= limit else {
            throw KernelError.invalidArgument(message: "target.frequency: \(frequency) Hz is outside 1-\(limit) (kernel.perf_event_max_sample_rate)",
                                data: ["field": "target.frequency", "maximum": .int(Int64(limit))])
        }
        if kind.isHardware, !features.hardwarePerfEvents {
            throw .unsupported(feature: "hardware perf events (PMU)",
                               message: "perf event '\(kind.name)' is a hardware counter and this node has no usable PMU (common in virtual machines); use a software event such as cpu-clock")
        }
        var parts: [(name: String, attachment: Attachment)] = []
        for cpu in Self.onlineCPUs() {
            let perf = bpfleet_perf_event_open(kind.type, kind.config, frequency, Int32(cpu))
            guard perf >= 0 else {
                let code = currentErrno()
                if !parts.isEmpty { _ = BPFLink(parts: parts) }  // detaches what was made
                if code == ENOENT || code == EOPNOTSUPP || code == ENODEV {
                    throw .unsupported(feature: "perf event \(kind.name)", message: "the kernel cannot open perf event '\(kind.name)' on CPU \(cpu): \(errnoText(code)) (\(errnoName(code)))")
                }
                throw .failed(operation: "perf_event_open \(kind.name) on CPU \(cpu)", errno: code)
            }
            guard let link = Self.perfEventLink(program, perfFD: perf) else {
                let code = currentErrno()
                if !parts.isEmpty { _ = BPFLink(parts: parts) }
                throw failure(code, program, target: target)
            }
            parts.append(("cpu\(cpu)", link))
        }
        guard !parts.isEmpty else { throw .failed(operation: "list online CPUs", errno: ENOENT) }
        return BPFLink(parts: parts, pinAsDirectory: true)
    }

    /// A link of `program` to the perf event `perfFD` (a sampling event, a
    /// tracepoint, a kprobe or uprobe), which it takes over:
    /// `BPF_LINK_CREATE` with `BPF_PERF_EVENT` (the kernel link holds its
    /// own reference to the event, so the descriptor is closed). nil with
    /// errno set, the descriptor closed.
    static func perfEventLink(_ program: AttachProgram, perfFD: Int32) -> Attachment? {
        let perf = OwnedDescriptor(perfFD)
        let fd = bpf_link_create(program.fd, perf.fd, BPF_PERF_EVENT, nil)
        guard fd >= 0 else {
            errno = -fd
            return nil
        }
        return .descriptor(fd)
    }

    /// /sys/devices/system/cpu/online: "0-3" or "0,2-5".
    static func onlineCPUs() -> [Int] {
        let text = (try? String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)) ?? "0"
        return text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").flatMap { range -> [Int] in
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2, bounds[0] <= bounds[1] { return Array(bounds[0]...bounds[1]) }
            return bounds.prefix(1).map { $0 }
        }
    }

    static func maximumSampleRate() -> UInt64 {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/perf_event_max_sample_rate", encoding: .utf8)) ?? ""
        return UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 100_000
    }
}

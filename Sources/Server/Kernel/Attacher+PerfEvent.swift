import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// `perf_event` targets: one sampling perf event per online CPU, each with
/// its own link, all owned by one BPFLink (pinned as `links/ID/cpuN`).
extension Attacher {
    func attachPerfEvent(_ program: OpaquePointer, named name: String, event: String, frequency: UInt64, target: AttachTarget) throws(ResponseError) -> BPFLink {
        try require(bpf_program__type(program), [BPF_PROG_TYPE_PERF_EVENT], program: name, target: target)
        guard let kind = PerfEventKind.named(event) else {
            let names = PerfEventKind.all.map(\.name)
            throw ResponseError(.invalidParams, "target.event: '\(event)' is not a perf event bpfleetd knows (one of: \(names.joined(separator: ", ")))",
                                data: ["field": "target.event", "allowed": .array(names.map(JSONValue.string))])
        }
        let limit = Self.maximumSampleRate()
        guard frequency >= 1, frequency <= limit else {
            throw ResponseError(.invalidParams, "target.frequency: \(frequency) Hz is outside 1-\(limit) (kernel.perf_event_max_sample_rate)",
                                data: ["field": "target.frequency", "maximum": .int(Int64(limit))])
        }
        if kind.isHardware, !features.hardwarePerfEvents {
            throw .unsupported("hardware perf events (PMU)",
                               "perf event '\(kind.name)' is a hardware counter and this node has no usable PMU (common in virtual machines); use a software event such as cpu-clock")
        }
        var parts: [(name: String, attachment: Attachment)] = []
        for cpu in Self.onlineCPUs() {
            let perf = bpfleet_perf_event_open(kind.type, kind.config, frequency, Int32(cpu))
            guard perf >= 0 else {
                let code = currentErrno()
                if !parts.isEmpty { _ = BPFLink(parts: parts) }  // detaches what was made
                if code == ENOENT || code == EOPNOTSUPP || code == ENODEV {
                    throw .unsupported("perf event \(kind.name)", "the kernel cannot open perf event '\(kind.name)' on CPU \(cpu): \(errnoText(code)) (\(errnoName(code)))")
                }
                throw .kernel("perf_event_open \(kind.name) on CPU \(cpu)", errno: code)
            }
            guard let link = bpf_program__attach_perf_event(program, perf) else {
                let code = currentErrno()
                close(perf)
                if !parts.isEmpty { _ = BPFLink(parts: parts) }
                throw failure(code, program: name, section: section(program), target: target)
            }
            parts.append(("cpu\(cpu)", .libbpf(link)))
        }
        guard !parts.isEmpty else { throw .kernel("list online CPUs", errno: ENOENT) }
        return BPFLink(parts: parts, pinAsDirectory: true)
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

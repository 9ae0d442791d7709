import ArgumentParser
import BpfleetShared

/// The attach target flags of `probe attach`: exactly one target, plus the
/// modifiers that target takes.
struct AttachTargetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A tracepoint, as in /sys/kernel/tracing/events.", valueName: "category:name"))
    var tracepoint: String?

    @Option(help: ArgumentHelp("A raw tracepoint.", valueName: "name"))
    var rawTracepoint: String?

    @Option(help: ArgumentHelp("A BTF-enabled tracepoint; must be the one the program's section names.", valueName: "name"))
    var tpBtf: String?

    @Option(help: ArgumentHelp("A function in a user-space binary, by symbol or 0xOFFSET (a file offset).", valueName: "binary:symbol"))
    var uprobe: String?

    @Option(help: ArgumentHelp("A USDT probe in a user-space binary.", valueName: "binary:provider:name"))
    var usdt: String?

    @Option(help: ArgumentHelp("A kernel function.", valueName: "function"))
    var kprobe: String?

    @Option(help: ArgumentHelp("Entry of a kernel function (BTF trampoline).", valueName: "function"))
    var fentry: String?

    @Option(help: ArgumentHelp("Exit of a kernel function (BTF trampoline).", valueName: "function"))
    var fexit: String?

    @Option(help: ArgumentHelp("A network interface, for an XDP program.", valueName: "interface"))
    var xdp: String?

    @Option(help: ArgumentHelp("A network interface, for a tc program (needs --direction).", valueName: "interface"))
    var tc: String?

    @Option(help: ArgumentHelp("A cgroup directory (needs --attach-type).", valueName: "path"))
    var cgroup: String?

    @Option(help: ArgumentHelp("A perf event, e.g. cpu-clock, page-faults, cycles (needs --frequency); one link per online CPU.", valueName: "event"))
    var perfEvent: String?

    @Flag(help: "Attach where the program's ELF section says.")
    var auto = false

    @Option(help: "Only this process (--uprobe, --usdt).")
    var pid: Int32?

    @Flag(help: "Fire on return instead of entry (--uprobe, --kprobe).")
    var retprobe = false

    @Option(help: "XDP mode: native (the driver's hook), generic (skb) or auto, the default (--xdp).")
    var mode: String?

    @Option(help: "Traffic direction (--tc).")
    var direction: TrafficDirection?

    @Option(help: "Classic tc filter priority, 1-65535; without it a tcx link where the kernel has them (--tc).")
    var priority: UInt32?

    @Option(help: ArgumentHelp("The cgroup hook: ingress, egress, sock_create, connect4, sendmsg6, ... (--cgroup).", valueName: "type"))
    var attachType: String?

    @Option(help: ArgumentHelp("Samples per second (--perf-event).", valueName: "hz"))
    var frequency: UInt64?

    enum TrafficDirection: String, CaseIterable, ExpressibleByArgument {
        case ingress, egress
    }

    func validate() throws {
        _ = try target()
    }

    /// The one target the flags name, checked for its modifiers.
    func target() throws -> AttachTarget {
        let given: [(flag: String, given: Bool)] = [
            ("--tracepoint", tracepoint != nil), ("--raw-tracepoint", rawTracepoint != nil), ("--tp-btf", tpBtf != nil),
            ("--uprobe", uprobe != nil), ("--usdt", usdt != nil), ("--kprobe", kprobe != nil),
            ("--fentry", fentry != nil), ("--fexit", fexit != nil), ("--xdp", xdp != nil), ("--tc", tc != nil),
            ("--cgroup", cgroup != nil), ("--perf-event", perfEvent != nil), ("--auto", auto),
        ]
        let chosen = given.filter(\.given).map(\.flag)
        guard chosen.count == 1, let flag = chosen.first else {
            if chosen.isEmpty {
                throw ValidationError("give one attach target: \(given.map(\.flag).joined(separator: ", "))")
            }
            throw ValidationError("give only one attach target, not \(chosen.joined(separator: " and "))")
        }
        try checkModifiers(for: flag)

        if let tracepoint {
            // `category:name` as the brief and bpftool write it; `category/name`
            // as tracefs lays it out.
            guard let split = tracepoint.firstIndex(where: { $0 == ":" || $0 == "/" }),
                  split != tracepoint.startIndex, tracepoint.index(after: split) != tracepoint.endIndex else {
                throw ValidationError("--tracepoint takes CATEGORY:NAME, e.g. sched:sched_process_exec")
            }
            return .tracepoint(category: String(tracepoint[..<split]),
                               name: String(tracepoint[tracepoint.index(after: split)...]))
        }
        if let rawTracepoint { return .rawTracepoint(name: try nonEmpty(rawTracepoint, "--raw-tracepoint")) }
        if let tpBtf { return .tpBtf(name: try nonEmpty(tpBtf, "--tp-btf")) }
        if let uprobe {
            // The binary's path may hold a colon; the symbol never does.
            let parts = uprobe.split(separator: ":", omittingEmptySubsequences: false)
            let binary = parts.dropLast().joined(separator: ":")
            guard parts.count >= 2, !binary.isEmpty, let place = parts.last, !place.isEmpty else {
                throw ValidationError("--uprobe takes BINARY:SYMBOL or BINARY:0xOFFSET, e.g. /bin/bash:readline")
            }
            if place.hasPrefix("0x"), let offset = UInt64(place.dropFirst(2), radix: 16) {
                return .uprobe(binary: binary, symbol: nil, offset: offset, pid: pid, retprobe: retprobe)
            }
            return .uprobe(binary: binary, symbol: String(place), offset: nil, pid: pid, retprobe: retprobe)
        }
        if let usdt {
            let parts = usdt.split(separator: ":", omittingEmptySubsequences: false)
            let binary = parts.dropLast(2).joined(separator: ":")
            guard parts.count >= 3, !binary.isEmpty, !parts[parts.count - 2].isEmpty, !parts[parts.count - 1].isEmpty else {
                throw ValidationError("--usdt takes BINARY:PROVIDER:NAME, e.g. /usr/bin/python3:python:function__entry")
            }
            return .usdt(binary: binary, provider: String(parts[parts.count - 2]), name: String(parts[parts.count - 1]), pid: pid)
        }
        if let kprobe { return .kprobe(function: try nonEmpty(kprobe, "--kprobe"), retprobe: retprobe) }
        if let fentry { return .fentry(function: try nonEmpty(fentry, "--fentry")) }
        if let fexit { return .fexit(function: try nonEmpty(fexit, "--fexit")) }
        if let xdp { return .xdp(interface: try nonEmpty(xdp, "--xdp"), mode: mode) }
        if let tc, let direction {
            return .tc(interface: try nonEmpty(tc, "--tc"), direction: direction.rawValue, priority: priority)
        }
        if let cgroup, let attachType {
            return .cgroup(path: try nonEmpty(cgroup, "--cgroup"), attachType: try nonEmpty(attachType, "--attach-type"))
        }
        if let perfEvent, let frequency {
            return .perfEvent(event: try nonEmpty(perfEvent, "--perf-event"), frequency: frequency)
        }
        return .auto
    }

    /// Each modifier belongs to some targets; one given elsewhere is a
    /// mistake worth saying, not a flag to ignore.
    private func checkModifiers(for flag: String) throws {
        let modifiers: [(name: String, given: Bool, targets: [String])] = [
            ("--pid", pid != nil, ["--uprobe", "--usdt"]),
            ("--retprobe", retprobe, ["--uprobe", "--kprobe"]),
            ("--mode", mode != nil, ["--xdp"]),
            ("--direction", direction != nil, ["--tc"]),
            ("--priority", priority != nil, ["--tc"]),
            ("--attach-type", attachType != nil, ["--cgroup"]),
            ("--frequency", frequency != nil, ["--perf-event"]),
        ]
        for modifier in modifiers where modifier.given && !modifier.targets.contains(flag) {
            throw ValidationError("\(modifier.name) goes with \(modifier.targets.joined(separator: " or ")), not \(flag)")
        }
        let required: [String: (name: String, given: Bool)] = [
            "--tc": ("--direction ingress|egress", direction != nil),
            "--cgroup": ("--attach-type", attachType != nil),
            "--perf-event": ("--frequency", frequency != nil),
        ]
        if let needed = required[flag], !needed.given {
            throw ValidationError("\(flag) needs \(needed.name)")
        }
        if frequency == 0 {
            throw ValidationError("--frequency must be at least 1")
        }
    }

    private func nonEmpty(_ value: String, _ flag: String) throws -> String {
        guard !value.isEmpty else { throw ValidationError("\(flag) needs a value") }
        return value
    }
}

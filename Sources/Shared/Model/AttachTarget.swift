/// Where a program attaches, tagged by `type` on the wire.
public enum AttachTarget: Codable, Sendable, Hashable {
    case tracepoint(category: String, name: String)
    case rawTracepoint(name: String)
    case tpBtf(name: String?)
    case uprobe(binary: String, symbol: String?, offset: UInt64?, pid: Int32?, retprobe: Bool)
    case usdt(binary: String, provider: String, name: String, pid: Int32?)
    case kprobe(function: String, retprobe: Bool)
    case fentry(function: String?)
    case fexit(function: String?)
    case xdp(interface: String, mode: String?)
    case tc(interface: String, direction: String, priority: UInt32?)
    case cgroup(path: String, attachType: String)
    case perfEvent(event: String, frequency: UInt64)
    case auto

    /// The `type` tag as it appears on the wire.
    public var type: String {
        switch self {
        case .tracepoint: "tracepoint"
        case .rawTracepoint: "raw_tracepoint"
        case .tpBtf: "tp_btf"
        case .uprobe: "uprobe"
        case .usdt: "usdt"
        case .kprobe: "kprobe"
        case .fentry: "fentry"
        case .fexit: "fexit"
        case .xdp: "xdp"
        case .tc: "tc"
        case .cgroup: "cgroup"
        case .perfEvent: "perf_event"
        case .auto: "auto"
        }
    }

    public static let allTypes = [
        "tracepoint", "raw_tracepoint", "tp_btf", "uprobe", "usdt", "kprobe", "fentry", "fexit",
        "xdp", "tc", "cgroup", "perf_event", "auto",
    ]

    private enum Key: String, CodingKey {
        case type, category, name, binary, symbol, offset, pid, retprobe, provider, function
        case interface, mode, direction, priority, path, attachType, event, frequency
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "tracepoint":
            self = .tracepoint(category: try c.decode(String.self, forKey: .category), name: try c.decode(String.self, forKey: .name))
        case "raw_tracepoint":
            self = .rawTracepoint(name: try c.decode(String.self, forKey: .name))
        case "tp_btf":
            self = .tpBtf(name: try c.decodeIfPresent(String.self, forKey: .name))
        case "uprobe":
            self = .uprobe(
                binary: try c.decode(String.self, forKey: .binary),
                symbol: try c.decodeIfPresent(String.self, forKey: .symbol),
                offset: try c.decodeIfPresent(UInt64.self, forKey: .offset),
                pid: try c.decodeIfPresent(Int32.self, forKey: .pid),
                retprobe: try c.decodeIfPresent(Bool.self, forKey: .retprobe) ?? false)
        case "usdt":
            self = .usdt(
                binary: try c.decode(String.self, forKey: .binary), provider: try c.decode(String.self, forKey: .provider),
                name: try c.decode(String.self, forKey: .name), pid: try c.decodeIfPresent(Int32.self, forKey: .pid))
        case "kprobe":
            self = .kprobe(function: try c.decode(String.self, forKey: .function),
                           retprobe: try c.decodeIfPresent(Bool.self, forKey: .retprobe) ?? false)
        case "fentry":
            self = .fentry(function: try c.decodeIfPresent(String.self, forKey: .function))
        case "fexit":
            self = .fexit(function: try c.decodeIfPresent(String.self, forKey: .function))
        case "xdp":
            self = .xdp(interface: try c.decode(String.self, forKey: .interface), mode: try c.decodeIfPresent(String.self, forKey: .mode))
        case "tc":
            self = .tc(interface: try c.decode(String.self, forKey: .interface), direction: try c.decode(String.self, forKey: .direction),
                       priority: try c.decodeIfPresent(UInt32.self, forKey: .priority))
        case "cgroup":
            self = .cgroup(path: try c.decode(String.self, forKey: .path), attachType: try c.decode(String.self, forKey: .attachType))
        case "perf_event":
            self = .perfEvent(event: try c.decode(String.self, forKey: .event), frequency: try c.decode(UInt64.self, forKey: .frequency))
        case "auto":
            self = .auto
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c,
                debugDescription: "unknown target type '\(type)' (one of: \(Self.allTypes.joined(separator: ", ")))")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(type, forKey: .type)
        switch self {
        case .tracepoint(let category, let name):
            try c.encode(category, forKey: .category)
            try c.encode(name, forKey: .name)
        case .rawTracepoint(let name):
            try c.encode(name, forKey: .name)
        case .tpBtf(let name):
            try c.encodeIfPresent(name, forKey: .name)
        case .uprobe(let binary, let symbol, let offset, let pid, let retprobe):
            try c.encode(binary, forKey: .binary)
            try c.encodeIfPresent(symbol, forKey: .symbol)
            try c.encodeIfPresent(offset, forKey: .offset)
            try c.encodeIfPresent(pid, forKey: .pid)
            try c.encode(retprobe, forKey: .retprobe)
        case .usdt(let binary, let provider, let name, let pid):
            try c.encode(binary, forKey: .binary)
            try c.encode(provider, forKey: .provider)
            try c.encode(name, forKey: .name)
            try c.encodeIfPresent(pid, forKey: .pid)
        case .kprobe(let function, let retprobe):
            try c.encode(function, forKey: .function)
            try c.encode(retprobe, forKey: .retprobe)
        case .fentry(let function), .fexit(let function):
            try c.encodeIfPresent(function, forKey: .function)
        case .xdp(let interface, let mode):
            try c.encode(interface, forKey: .interface)
            try c.encodeIfPresent(mode, forKey: .mode)
        case .tc(let interface, let direction, let priority):
            try c.encode(interface, forKey: .interface)
            try c.encode(direction, forKey: .direction)
            try c.encodeIfPresent(priority, forKey: .priority)
        case .cgroup(let path, let attachType):
            try c.encode(path, forKey: .path)
            try c.encode(attachType, forKey: .attachType)
        case .perfEvent(let event, let frequency):
            try c.encode(event, forKey: .event)
            try c.encode(frequency, forKey: .frequency)
        case .auto:
            break
        }
    }
}

extension AttachTarget: CustomStringConvertible {
    /// A one-line form for tables: `tracepoint:sched/sched_process_exec`.
    public var description: String {
        switch self {
        case .tracepoint(let category, let name): "tracepoint:\(category)/\(name)"
        case .rawTracepoint(let name): "raw_tracepoint:\(name)"
        case .tpBtf(let name): "tp_btf:\(name ?? "(section)")"
        case .uprobe(let binary, let symbol, let offset, let pid, let retprobe):
            "\(retprobe ? "uretprobe" : "uprobe"):\(binary):\(symbol ?? offset.map { "0x" + String($0, radix: 16) } ?? "?")\(pid.map { "[pid=\($0)]" } ?? "")"
        case .usdt(let binary, let provider, let name, let pid): "usdt:\(binary):\(provider):\(name)\(pid.map { "[pid=\($0)]" } ?? "")"
        case .kprobe(let function, let retprobe): "\(retprobe ? "kretprobe" : "kprobe"):\(function)"
        case .fentry(let function): "fentry:\(function ?? "(section)")"
        case .fexit(let function): "fexit:\(function ?? "(section)")"
        case .xdp(let interface, let mode): "xdp:\(interface)\(mode.map { "/" + $0 } ?? "")"
        case .tc(let interface, let direction, let priority): "tc:\(interface)/\(direction)\(priority.map { "[prio=\($0)]" } ?? "")"
        case .cgroup(let path, let attachType): "cgroup:\(path)/\(attachType)"
        case .perfEvent(let event, let frequency): "perf_event:\(event)@\(frequency)Hz"
        case .auto: "auto"
        }
    }
}

extension AttachTarget: WireTaggedUnion, WireDocumented {
    public static let wireTagKey = "type"
    public static var wireTags: [String] { allTypes }
    public static let wireSummary = "Where a program attaches, by `type` (docs/attach-targets.md)."
    public static let wireFields: [String: WireField] = [
        "type": "The target type.",
        "category": "A tracepoint's category (`sched`).",
        "name": "A tracepoint's, raw tracepoint's or BTF tracepoint's name; a USDT probe's name.",
        "binary": "The executable or library: an absolute path, or a bare name found on the node's PATH and library directories.",
        "symbol": "The function's symbol in the binary.",
        "offset": "An offset into the binary's file, instead of a symbol (or added to it).",
        "pid": "Only this process (else every process that runs the binary).",
        "retprobe": "On return instead of entry.",
        "provider": "The USDT provider.",
        "function": "The kernel function.",
        "interface": "The network interface's name.",
        "mode": WireField("XDP mode: `native` (or `drv`), `generic` (or `skb`), or `auto` (default: native when the driver has it).",
                          values: ["auto", "native", "drv", "generic", "skb"]),
        "direction": WireField("`ingress` or `egress`.", values: ["ingress", "egress"]),
        "priority": "The tc filter's priority.",
        "path": "The cgroup's path (under the cgroup2 mount, or absolute).",
        "attachType": WireField("The hook in the cgroup: `ingress`, `egress`, `sock_create`, ..., or libbpf's name for it (docs/attach-targets.md).",
                                values: cgroupAttachTypeNames),
        "event": WireField("The perf event: a software event (`cpu-clock`, ...) or a hardware one (`cycles`, ...), or perf's alias of one.",
                           values: perfEventNames),
        "frequency": "Samples per second on each CPU.",
    ]
}

extension AttachTarget {
    /// The events a `perf_event` target may name, perf's aliases last
    /// (what bpfleetd's table of them holds; a server test keeps the two equal).
    public static let perfEventNames = [
        "cpu-clock", "task-clock", "page-faults", "context-switches", "cpu-migrations", "minor-faults", "major-faults",
        "alignment-faults", "emulation-faults", "cycles", "instructions", "cache-references", "cache-misses",
        "branch-instructions", "branch-misses", "bus-cycles", "ref-cycles",
        "cpu-cycles", "branches", "faults", "cs", "migrations",
    ]

    /// The hooks a `cgroup` target may name: the suffix of libbpf's section
    /// name for it, then libbpf's own attach type names (a server test
    /// keeps these equal to what bpfleetd and libbpf know).
    public static let cgroupAttachTypeNames = [
        "ingress", "egress", "sock_create", "sock_release", "post_bind4", "post_bind6", "bind4", "bind6", "connect4", "connect6",
        "getpeername4", "getpeername6", "getsockname4", "getsockname6", "sendmsg4", "sendmsg6", "recvmsg4", "recvmsg6",
        "sock_ops", "device", "sysctl", "getsockopt", "setsockopt",
        "cgroup_inet_ingress", "cgroup_inet_egress", "cgroup_inet_sock_create", "cgroup_inet_sock_release",
        "cgroup_inet4_post_bind", "cgroup_inet6_post_bind", "cgroup_inet4_bind", "cgroup_inet6_bind",
        "cgroup_inet4_connect", "cgroup_inet6_connect", "cgroup_inet4_getpeername", "cgroup_inet6_getpeername",
        "cgroup_inet4_getsockname", "cgroup_inet6_getsockname", "cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg",
        "cgroup_udp4_recvmsg", "cgroup_udp6_recvmsg", "cgroup_sock_ops", "cgroup_device", "cgroup_sysctl",
        "cgroup_getsockopt", "cgroup_setsockopt",
    ]
}

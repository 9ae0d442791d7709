import Foundation

/// `node.programs`: every BPF program in the node's kernel, bpfleet's or not.
public struct NodePrograms: RPCMethod {
    public static let method = "node.programs"
    /// Whether to find the processes holding each program (a walk of
    /// /proc); default true.
    public var holders: Bool?
    public init(holders: Bool? = nil) { self.holders = holders }

    public struct Result: Codable, Sendable, Hashable {
        public var programs: [KernelProgram]
        /// More exist than one answer carries (`NodeInventoryLimits.objects`).
        public var truncated: Bool
        public init(programs: [KernelProgram], truncated: Bool) {
            self.programs = programs
            self.truncated = truncated
        }
    }
}

/// `node.maps`: every BPF map in the node's kernel, bpfleet's or not.
public struct NodeMaps: RPCMethod {
    public static let method = "node.maps"
    public var holders: Bool?
    public init(holders: Bool? = nil) { self.holders = holders }

    public struct Result: Codable, Sendable, Hashable {
        public var maps: [KernelMap]
        public var truncated: Bool
        public init(maps: [KernelMap], truncated: Bool) {
            self.maps = maps
            self.truncated = truncated
        }
    }
}

/// `node.links`: every BPF link in the node's kernel, bpfleet's or not.
public struct NodeLinks: RPCMethod {
    public static let method = "node.links"
    public var holders: Bool?
    public init(holders: Bool? = nil) { self.holders = holders }

    public struct Result: Codable, Sendable, Hashable {
        public var links: [KernelLink]
        public var truncated: Bool
        public init(links: [KernelLink], truncated: Bool) {
            self.links = links
            self.truncated = truncated
        }
    }
}

/// The bounds of one inventory answer.
public enum NodeInventoryLimits {
    /// Objects of one kind in one answer.
    public static let objects = 65_536
}

/// The bpfleet probe a kernel object belongs to.
public struct ProbeOwner: Codable, Sendable, Hashable {
    public var probe: String
    /// The program's or map's name in the probe.
    public var name: String?
    /// The probe's link id (`probe.attach`'s `linkId`).
    public var linkId: Int?
    public init(probe: String, name: String? = nil, linkId: Int? = nil) {
        self.probe = probe
        self.name = name
        self.linkId = linkId
    }
}

/// A process holding a kernel object open.
public struct ObjectHolder: Codable, Sendable, Hashable {
    public var pid: Int32
    public var comm: String
    public init(pid: Int32, comm: String) {
        self.pid = pid
        self.comm = comm
    }
}

/// A program as the kernel reports it.
public struct KernelProgram: Codable, Sendable, Hashable {
    public var id: UInt32
    public var type: String
    public var name: String
    public var tag: String
    public var loadedAt: Date
    public var uid: UInt32
    public var btfId: UInt32?
    public var mapIds: [UInt32]
    public var linkIds: [UInt32]
    /// What its links attach it to (`node.links`' `attachPoint`).
    public var attachPoints: [String]
    public var instructions: UInt32
    public var verifiedInstructions: UInt32
    public var jitedBytes: UInt32
    public var runCount: UInt64
    public var runTimeNs: UInt64
    public var owner: ProbeOwner?
    public var holders: [ObjectHolder]?

    public init(id: UInt32, type: String, name: String, tag: String, loadedAt: Date, uid: UInt32, btfId: UInt32?,
                mapIds: [UInt32], linkIds: [UInt32], attachPoints: [String], instructions: UInt32, verifiedInstructions: UInt32,
                jitedBytes: UInt32, runCount: UInt64, runTimeNs: UInt64, owner: ProbeOwner?, holders: [ObjectHolder]?) {
        self.id = id
        self.type = type
        self.name = name
        self.tag = tag
        self.loadedAt = loadedAt
        self.uid = uid
        self.btfId = btfId
        self.mapIds = mapIds
        self.linkIds = linkIds
        self.attachPoints = attachPoints
        self.instructions = instructions
        self.verifiedInstructions = verifiedInstructions
        self.jitedBytes = jitedBytes
        self.runCount = runCount
        self.runTimeNs = runTimeNs
        self.owner = owner
        self.holders = holders
    }
}

/// A map as the kernel reports it.
public struct KernelMap: Codable, Sendable, Hashable {
    public var id: UInt32
    public var type: String
    public var name: String
    public var keySize: UInt32
    public var valueSize: UInt32
    public var maxEntries: UInt32
    public var flags: UInt32
    public var btfId: UInt32?
    public var keyType: String?
    public var valueType: String?
    /// Programs using it (their `mapIds` name it).
    public var programIds: [UInt32]
    public var owner: ProbeOwner?
    public var holders: [ObjectHolder]?

    public init(id: UInt32, type: String, name: String, keySize: UInt32, valueSize: UInt32, maxEntries: UInt32, flags: UInt32,
                btfId: UInt32?, keyType: String?, valueType: String?, programIds: [UInt32], owner: ProbeOwner?, holders: [ObjectHolder]?) {
        self.id = id
        self.type = type
        self.name = name
        self.keySize = keySize
        self.valueSize = valueSize
        self.maxEntries = maxEntries
        self.flags = flags
        self.btfId = btfId
        self.keyType = keyType
        self.valueType = valueType
        self.programIds = programIds
        self.owner = owner
        self.holders = holders
    }
}

/// A link as the kernel reports it.
public struct KernelLink: Codable, Sendable, Hashable {
    public var id: UInt32
    public var type: String
    public var programId: UInt32
    public var attachType: String?
    public var attachPoint: String
    public var owner: ProbeOwner?
    public var holders: [ObjectHolder]?

    public init(id: UInt32, type: String, programId: UInt32, attachType: String?, attachPoint: String, owner: ProbeOwner?, holders: [ObjectHolder]?) {
        self.id = id
        self.type = type
        self.programId = programId
        self.attachType = attachType
        self.attachPoint = attachPoint
        self.owner = owner
        self.holders = holders
    }
}

// MARK: The contract

private let holdersField: WireField = "Whether to name the processes holding each object open (a walk of /proc, the larger part of the cost); default true."
private let truncatedField: WireField = "Whether the kernel holds more than one answer carries (65,536); the lowest ids come first."

extension NodePrograms {
    public static let wireSummary = "Every BPF program in the node's kernel, loaded by bpfleet or by anything else, with what the kernel says of it, the probe that owns it and the processes holding it."
    public static let wireFields: [String: WireField] = ["holders": holdersField]
    public static let errors: [ErrorCode] = [.kernelError]
    public static let example = NodePrograms()
    public static let exampleResult = Result(programs: [
        KernelProgram(id: 41, type: "tracepoint", name: "count_execs", tag: "a04f5eef06a7f555", loadedAt: exampleDate, uid: 0, btfId: 60,
                      mapIds: [88], linkIds: [12], attachPoints: ["tracepoint sched_process_exec"], instructions: 21,
                      verifiedInstructions: 20, jitedBytes: 132, runCount: 1000, runTimeNs: 52_000,
                      owner: ProbeOwner(probe: "execs", name: "count_execs"), holders: [ObjectHolder(pid: 812, comm: "bpfleetd")]),
    ], truncated: false)
}

extension NodeMaps {
    public static let wireSummary = "Every BPF map in the node's kernel, made by bpfleet or by anything else, with its shape, its BTF types, the programs using it, the probe that owns it and the processes holding it."
    public static let wireFields: [String: WireField] = ["holders": holdersField]
    public static let errors: [ErrorCode] = [.kernelError]
    public static let example = NodeMaps()
    public static let exampleResult = Result(maps: [
        KernelMap(id: 88, type: "array", name: "counts", keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, btfId: 60,
                  keyType: nil, valueType: "__u64", programIds: [41], owner: ProbeOwner(probe: "execs", name: "counts"),
                  holders: [ObjectHolder(pid: 812, comm: "bpfleetd")]),
    ], truncated: false)
}

extension NodeLinks {
    public static let wireSummary = "Every BPF link in the node's kernel, made by bpfleet or by anything else: its program, what it attaches to, the probe that owns it and the processes holding it."
    public static let wireFields: [String: WireField] = ["holders": holdersField]
    public static let errors: [ErrorCode] = [.kernelError]
    public static let example = NodeLinks()
    public static let exampleResult = Result(links: [
        KernelLink(id: 12, type: "perf_event", programId: 41, attachType: nil, attachPoint: "tracepoint sched_process_exec",
                   owner: ProbeOwner(probe: "execs", linkId: 1), holders: [ObjectHolder(pid: 812, comm: "bpfleetd")]),
    ], truncated: false)
}

extension NodePrograms.Result: WireDocumented {
    public static let wireSummary = "The node's programs, by id."
    public static let wireFields: [String: WireField] = ["programs": "Every program, lowest id first.", "truncated": truncatedField]
}

extension NodeMaps.Result: WireDocumented {
    public static let wireSummary = "The node's maps, by id."
    public static let wireFields: [String: WireField] = ["maps": "Every map, lowest id first.", "truncated": truncatedField]
}

extension NodeLinks.Result: WireDocumented {
    public static let wireSummary = "The node's links, by id."
    public static let wireFields: [String: WireField] = ["links": "Every link, lowest id first.", "truncated": truncatedField]
}

extension ProbeOwner: WireDocumented {
    public static let wireSummary = "The bpfleet probe a kernel object belongs to."
    public static let wireFields: [String: WireField] = [
        "probe": "The probe's name.",
        "name": "The program's or map's name in the probe.",
        "linkId": "The probe's id for the link (`probe.detach` takes it).",
    ]
}

extension ObjectHolder: WireDocumented {
    public static let wireSummary = "A process holding the object open, as /proc shows it."
    public static let wireFields: [String: WireField] = [
        "pid": "The process id.",
        "comm": "Its command name (/proc/PID/comm).",
    ]
}

extension KernelProgram: WireDocumented {
    public static let wireSummary = "A program in the kernel (`bpf_prog_info`)."
    public static let wireFields: [String: WireField] = [
        "id": "The kernel's program id (`bpftool prog show id N`).",
        "type": "Its program type (libbpf's name).",
        "name": "Its name as the kernel keeps it (at most 15 bytes).",
        "tag": "The kernel's tag of its instructions (hex).",
        "loadedAt": "When it was loaded.",
        "uid": "The user id that loaded it.",
        "btfId": "The id of the BTF it was loaded with; absent without one.",
        "mapIds": "The maps it uses.",
        "linkIds": "The links that run it.",
        "attachPoints": "What those links attach it to, as `node.links` writes each `attachPoint`. A program attached without a link (a classic tc filter, an old-style XDP or cgroup attachment) has none here.",
        "instructions": "Its instruction count after the verifier rewrote it.",
        "verifiedInstructions": "The instructions the verifier walked (0 before Linux 5.16).",
        "jitedBytes": "Its machine code's size (0: not JIT-compiled).",
        "runCount": "Times it ran since statistics were on (`node.info` `runStats`).",
        "runTimeNs": "Time it ran, in nanoseconds, since statistics were on.",
        "owner": "The bpfleet probe it belongs to; absent when another tool loaded it.",
        "holders": "Processes holding it open; absent when `holders` was false. A program kept only by a link or a pin has none.",
    ]
}

extension KernelMap: WireDocumented {
    public static let wireSummary = "A map in the kernel (`bpf_map_info`)."
    public static let wireFields: [String: WireField] = [
        "id": "The kernel's map id; `{\"id\": N}` names it in map calls (a map bpfleet does not own reads only where the node allows it: docs/security.md).",
        "type": "Its map type (libbpf's name).",
        "name": "Its name as the kernel keeps it (at most 15 bytes).",
        "keySize": "Key size in bytes.",
        "valueSize": "Value size in bytes.",
        "maxEntries": "Its `max_entries`.",
        "flags": "Its `map_flags`.",
        "btfId": "The id of its BTF; absent without one.",
        "keyType": "The key's BTF type name.",
        "valueType": "The value's BTF type name.",
        "programIds": "The programs using it.",
        "owner": "The bpfleet probe it belongs to; absent when another tool made it.",
        "holders": "Processes holding it open; absent when `holders` was false.",
    ]
}

extension KernelLink: WireDocumented {
    public static let wireSummary = "A link in the kernel (`bpf_link_info`)."
    public static let wireFields: [String: WireField] = [
        "id": "The kernel's link id (`bpftool link show id N`).",
        "type": "Its link type (libbpf's name).",
        "programId": "The program it runs.",
        "attachType": "Its attach type, for the link types that have one (libbpf's name).",
        "attachPoint": "What it attaches to, in words: `tracepoint NAME` (the kernel keeps no group), `raw_tracepoint NAME`, `uprobe PATH+0xOFFSET`, `kprobe FUNCTION+OFFSET`, `xdp IFNAME`, `tcx_ingress IFNAME`, `cgroup_inet_ingress cgroup ID`, `iter TARGET`, `netns INODE`, `trace_fentry FUNCTION`, `trace_raw_tp NAME` (tracing links: the attach type and the BTF type's name), `perf_event TYPE/CONFIG`.",
        "owner": "The bpfleet probe it belongs to; absent when another tool made it.",
        "holders": "Processes holding it open; absent when `holders` was false. A link kept only by a pin has none.",
    ]
}

import Foundation

/// `node.info`: what this node is and what its kernel can do.
public struct NodeInfo: RPCMethod {
    public static let method = "node.info"
    public init() {}

    public struct Result: Codable, Sendable, Hashable {
        public var hostname: String
        public var kernelRelease: String
        public var arch: String
        public var serverVersion: String
        public var libbpfVersion: String
        public var btf: Bool
        public var programTypes: [String]
        public var mapTypes: [String]
        /// Target types `probe.attach` serves on this node.
        public var attachTargets: [String]
        /// Target types that exist in the protocol but not on this node, with why.
        public var unsupportedTargets: [String: String]
        /// The kernel feature each unsupported target lacks, as `data.feature`
        /// of its -32008 error names it (absent from older servers).
        public var missingFeatures: [String: String]?
        /// Whether `tc` targets attach as tcx links (else as clsact filters).
        public var tcx: Bool?
        public var runStats: Bool
        public var startedAt: Date
        public var uptimeSeconds: Double
        /// `ProtocolV1.version`; absent from servers before 1.1.
        public var protocolVersion: String?
        /// Every method the node serves, sorted; absent from servers before 1.1.
        public var methods: [String]?
        /// Program types this node refuses by its policy (`--refuse-program-types`); absent when none.
        public var refusedProgramTypes: [String]?

        public init(hostname: String, kernelRelease: String, arch: String, serverVersion: String, libbpfVersion: String,
                    btf: Bool, programTypes: [String], mapTypes: [String], attachTargets: [String],
                    unsupportedTargets: [String: String], missingFeatures: [String: String]? = nil, tcx: Bool? = nil,
                    runStats: Bool, startedAt: Date, uptimeSeconds: Double,
                    protocolVersion: String? = ProtocolV1.version, methods: [String]? = ProtocolV1.methodNames,
                    refusedProgramTypes: [String]? = nil) {
            self.hostname = hostname
            self.kernelRelease = kernelRelease
            self.arch = arch
            self.serverVersion = serverVersion
            self.libbpfVersion = libbpfVersion
            self.btf = btf
            self.programTypes = programTypes
            self.mapTypes = mapTypes
            self.attachTargets = attachTargets
            self.unsupportedTargets = unsupportedTargets
            self.missingFeatures = missingFeatures
            self.tcx = tcx
            self.runStats = runStats
            self.startedAt = startedAt
            self.uptimeSeconds = uptimeSeconds
            self.protocolVersion = protocolVersion
            self.methods = methods
            self.refusedProgramTypes = refusedProgramTypes
        }
    }
}

extension NodeInfo {
    public static let wireSummary = "What this node is: its kernel, what the kernel can load and attach, this bpfleetd's version and the protocol it speaks."
    public static let wireFields: [String: WireField] = [:]
    public static let errors: [ErrorCode] = []
    public static let example = NodeInfo()
    public static let exampleResult = Result(
        hostname: "web-1", kernelRelease: "6.1.0-28-amd64", arch: "x86_64", serverVersion: "0.1.0", libbpfVersion: "1.1",
        btf: true, programTypes: ["kprobe", "tracepoint", "xdp"], mapTypes: ["hash", "array", "ringbuf"],
        attachTargets: ["tracepoint", "raw_tracepoint", "tp_btf", "uprobe", "usdt", "xdp", "tc", "cgroup", "perf_event", "auto"],
        unsupportedTargets: ["kprobe": "this kernel has no CONFIG_KPROBES"], missingFeatures: ["kprobe": "CONFIG_KPROBES"],
        tcx: false, runStats: true, startedAt: exampleDate, uptimeSeconds: 3600.5)
}

extension NodeInfo.Result: WireDocumented {
    public static let wireSummary = "The node and its kernel."
    public static let wireFields: [String: WireField] = [
        "hostname": "The node's host name.",
        "kernelRelease": "`uname -r`.",
        "arch": "The machine (`uname -m`).",
        "serverVersion": "This bpfleetd's version.",
        "libbpfVersion": "The libbpf bpfleetd runs with.",
        "btf": "Whether the kernel describes itself in BTF (`/sys/kernel/btf/vmlinux`).",
        "programTypes": "Program types the kernel loads (libbpf's names).",
        "mapTypes": "Map types the kernel creates (libbpf's names).",
        "attachTargets": WireField("Target types `probe.attach` serves on this node.", values: AttachTarget.allTypes),
        "unsupportedTargets": "Target types of the protocol this node cannot serve, each with why.",
        "missingFeatures": "For each unsupported target type, the kernel feature it lacks, as the -32008 error's `data.feature` names it. Absent from older servers.",
        "tcx": "Whether `tc` targets attach as tcx links (else as clsact filters). Absent from older servers.",
        "runStats": "Whether the kernel counts programs' runs and run time (`runCount`, `runTimeNs`).",
        "startedAt": "When this bpfleetd started.",
        "uptimeSeconds": "Seconds since then.",
        "protocolVersion": "The protocol version the node speaks (major.minor). Absent from servers before 1.1.",
        "methods": "Every method the node serves, sorted. Absent from servers before 1.1.",
        "refusedProgramTypes": "Program types this node refuses by its policy (`bpfleetd --refuse-program-types`): `probe.load` answers -32008 and `probe.verify` `unsupported` for their programs. Absent when none.",
    ]
}

/// `rpc.discover`: the OpenRPC 1.3 document of the protocol this node
/// speaks: every method, notification, schema and error (docs/api.md).
public struct RPCDiscover: RPCMethod {
    public static let method = "rpc.discover"
    public init() {}
    public typealias Result = JSONValue

    public static let wireSummary = "The OpenRPC 1.3 document of the protocol this node speaks: every method and notification, the JSON Schema of every param and result, and the error codes with their `data`."
    public static let wireFields: [String: WireField] = [:]
    public static let errors: [ErrorCode] = []
    public static let example = RPCDiscover()
    public static let exampleResult: JSONValue = ["openrpc": "1.3.2", "info": ["title": "bpfleetd", "version": "1.2"], "methods": []]
}

/// The date the examples use.
let exampleDate = Date(timeIntervalSince1970: 1_796_000_000)

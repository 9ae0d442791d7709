/// `probe.load`: load an object's programs and maps into the kernel under a name.
public struct ProbeLoad: RPCMethod {
    public static let method = "probe.load"
    public static let changesNode = true
    public var name: String
    public var objectId: String
    /// Programs to load; all of the object's when absent.
    public var programs: [String]?
    /// Values for `.rodata` / `.data` / `.bss` variables, typed as their BTF says.
    public var globals: [String: JSONValue]?
    public var labels: [String: String]?
    /// Replace the loaded probe of this name without a gap (docs/protocol.md):
    /// its links move to the new programs of the same names, under the same
    /// link ids. Without it a loaded name is a conflict.
    public var replace: Bool?
    /// With `replace`: maps of the old probe whose contents the new probe
    /// keeps. The new probe uses the old kernel map itself (same map id).
    public var keepMaps: [String]?
    /// Links to attach as part of the load, in order (link ids 1, 2, ...):
    /// the probe comes up with all of them or the call fails and nothing of
    /// it is left. Not with `replace` of a loaded probe (its links move).
    public var attach: [Attachment]?
    /// Settings for the object's maps, by map name, applied between open
    /// and load (what libbpf's `bpf_map__set_max_entries` and friends let a
    /// loader set): the size of a map its author left to the loader.
    public var maps: [String: MapSettings]?
    /// Maps exported to Prometheus (docs/metrics.md, "Map exports"),
    /// checked against the maps' BTF at load.
    public var metrics: [MetricExport]?

    public init(name: String, objectId: String, programs: [String]? = nil, globals: [String: JSONValue]? = nil,
                labels: [String: String]? = nil, replace: Bool? = nil, keepMaps: [String]? = nil, attach: [Attachment]? = nil,
                maps: [String: MapSettings]? = nil, metrics: [MetricExport]? = nil) {
        self.maps = maps
        self.metrics = metrics
        self.name = name
        self.objectId = objectId
        self.programs = programs
        self.globals = globals
        self.labels = labels
        self.replace = replace
        self.keepMaps = keepMaps
        self.attach = attach
    }

    /// One link of `attach`: what `probe.attach` takes, less the probe.
    public struct Attachment: Codable, Sendable, Hashable {
        public var program: String
        public var target: AttachTarget

        public init(program: String, target: AttachTarget) {
            self.program = program
            self.target = target
        }
    }

    public typealias Result = ProbeDescription
}

/// `probe.attach`: attach one program of a probe to a target.
public struct ProbeAttach: RPCMethod {
    public static let method = "probe.attach"
    public static let changesNode = true
    public var probe: String
    public var program: String
    public var target: AttachTarget

    public init(probe: String, program: String, target: AttachTarget) {
        self.probe = probe
        self.program = program
        self.target = target
    }

    public typealias Result = LinkDescription
}

/// `probe.detach`: remove one link.
public struct ProbeDetach: RPCMethod {
    public static let method = "probe.detach"
    public static let changesNode = true
    public var probe: String
    public var linkId: Int

    public init(probe: String, linkId: Int) {
        self.probe = probe
        self.linkId = linkId
    }

    public typealias Result = EmptyResult
}

/// `probe.unload`: detach every link, free every kernel object, unpin.
public struct ProbeUnload: RPCMethod {
    public static let method = "probe.unload"
    public static let changesNode = true
    public var probe: String
    public init(probe: String) { self.probe = probe }
    public typealias Result = EmptyResult
}

/// `probe.list`: every probe on the node.
public struct ProbeList: RPCMethod {
    public static let method = "probe.list"
    public init() {}

    public struct Result: Codable, Sendable, Hashable {
        public var probes: [ProbeDescription]
        public init(probes: [ProbeDescription]) { self.probes = probes }
    }
}

/// `probe.get`: one probe.
public struct ProbeGet: RPCMethod {
    public static let method = "probe.get"
    public var probe: String
    public init(probe: String) { self.probe = probe }
    public typealias Result = ProbeDescription
}

extension ProbeLoad {
    public static let wireSummary = "Loads an uploaded object's programs and maps into the kernel under a name, through the verifier, and pins them; optionally attaches links in the same call, or replaces a loaded probe of the name without a gap."
    public static let wireFields: [String: WireField] = [
        "name": WireField("The probe's name: 1 to 64 of `A-Z a-z 0-9 _ - .`, not starting with `.`.", pattern: "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$"),
        "objectId": "The uploaded object to load.",
        "programs": "The programs to load, by name; all of the object's when absent.",
        "globals": "Values for `.rodata`, `.data` and `.bss` variables by name, typed as their BTF says (docs/values.md).",
        "labels": "Labels for people and selectors (`team: web`).",
        "replace": "Replace the loaded probe of this name without a gap: its links move to the new programs of the same names (docs/protocol.md).",
        "keepMaps": "With `replace`: maps of the old probe the new one keeps (the same kernel map).",
        "attach": "Links to attach as part of the load, in order (link ids 1, 2, ...): all of them or nothing.",
        "maps": "Settings for the object's maps by map name, applied between open and load (docs/protocol.md, \"Map settings\").",
        "metrics": "Maps exported to Prometheus, each checked against its map's BTF (docs/metrics.md, \"Map exports\"); at most 64.",
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .invalidObject, .verifierRejected, .attachFailed, .unsupported, .limitExceeded, .kernelError]
    public static let example = ProbeLoad(
        name: "execs", objectId: ObjectDescription.example.objectId, labels: ["team": "web"],
        attach: [Attachment(program: "count_exec", target: .tracepoint(category: "sched", name: "sched_process_exec"))])
    public static var exampleResult: ProbeDescription { .example }
}

extension ProbeLoad.Attachment: WireDocumented {
    public static let wireSummary = "One link to attach at load: what `probe.attach` takes, less the probe."
    public static let wireFields: [String: WireField] = [
        "program": "The program of the probe to attach.",
        "target": "Where it attaches (docs/attach-targets.md).",
    ]
}

extension ProbeAttach {
    public static let wireSummary = "Attaches one program of a probe to a kernel or user-space event: a new link, pinned, kept across restarts."
    public static let wireFields: [String: WireField] = [
        "probe": "The probe's name.",
        "program": "The program to attach.",
        "target": "Where it attaches (docs/attach-targets.md).",
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .attachFailed, .unsupported, .limitExceeded, .kernelError]
    public static let example = ProbeAttach(probe: "execs", program: "count_exec", target: .tracepoint(category: "sched", name: "sched_process_exec"))
    public static var exampleResult: LinkDescription { .example }
}

extension ProbeDetach {
    public static let wireSummary = "Removes one link of a probe, in whatever state it is."
    public static let wireFields: [String: WireField] = [
        "probe": "The probe's name.",
        "linkId": WireField("The link's id within the probe.", minimum: 1),
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .kernelError]
    public static let example = ProbeDetach(probe: "execs", linkId: 1)
    public static let exampleResult = EmptyResult()
}

extension ProbeUnload {
    public static let wireSummary = "Detaches every link of a probe, frees its programs and maps, and removes its pins and desired state."
    public static let wireFields: [String: WireField] = ["probe": "The probe's name."]
    public static let errors: [ErrorCode] = [.notFound, .kernelError]
    public static let example = ProbeUnload(probe: "execs")
    public static let exampleResult = EmptyResult()
}

extension ProbeList {
    public static let wireSummary = "Every probe on the node."
    public static let wireFields: [String: WireField] = [:]
    public static let errors: [ErrorCode] = []
    public static let example = ProbeList()
    public static var exampleResult: Result { Result(probes: [.example]) }
}

extension ProbeList.Result: WireDocumented {
    public static let wireSummary = "The probes."
    public static let wireFields: [String: WireField] = ["probes": "Each probe, by name."]
}

extension ProbeGet {
    public static let wireSummary = "One probe: its programs (with run counts), maps and links."
    public static let wireFields: [String: WireField] = ["probe": "The probe's name."]
    public static let errors: [ErrorCode] = [.notFound]
    public static let example = ProbeGet(probe: "execs")
    public static var exampleResult: ProbeDescription { .example }
}

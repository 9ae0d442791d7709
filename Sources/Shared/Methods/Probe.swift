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

    public init(name: String, objectId: String, programs: [String]? = nil, globals: [String: JSONValue]? = nil,
                labels: [String: String]? = nil, replace: Bool? = nil, keepMaps: [String]? = nil, attach: [Attachment]? = nil,
                maps: [String: MapSettings]? = nil) {
        self.maps = maps
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

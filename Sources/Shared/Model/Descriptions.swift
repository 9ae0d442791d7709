import Foundation

/// A program as an ELF object describes it (no kernel involved).
public struct ProgramDescription: Codable, Sendable, Hashable {
    public var name: String
    public var section: String
    public var type: String
    public var attachType: String?
    public var instructions: Int

    public init(name: String, section: String, type: String, attachType: String?, instructions: Int) {
        self.name = name
        self.section = section
        self.type = type
        self.attachType = attachType
        self.instructions = instructions
    }
}

/// A map as an ELF object describes it.
public struct MapDescription: Codable, Sendable, Hashable {
    public var name: String
    public var type: String
    public var keySize: UInt32
    public var valueSize: UInt32
    public var maxEntries: UInt32
    /// BTF type names of key and value, when the object carries BTF.
    public var keyType: String?
    public var valueType: String?

    public init(name: String, type: String, keySize: UInt32, valueSize: UInt32, maxEntries: UInt32,
                keyType: String?, valueType: String?) {
        self.name = name
        self.type = type
        self.keySize = keySize
        self.valueSize = valueSize
        self.maxEntries = maxEntries
        self.keyType = keyType
        self.valueType = valueType
    }
}

/// A global variable in `.rodata`, `.data` or `.bss` that `probe.load` can set.
public struct GlobalVariable: Codable, Sendable, Hashable {
    public var name: String
    public var section: String
    public var type: String
    public var size: Int
    public var offset: Int
    public var readOnly: Bool

    public init(name: String, section: String, type: String, size: Int, offset: Int, readOnly: Bool) {
        self.name = name
        self.section = section
        self.type = type
        self.size = size
        self.offset = offset
        self.readOnly = readOnly
    }
}

/// An uploaded object, as `object.upload` / `object.get` return it.
public struct ObjectDescription: Codable, Sendable, Hashable {
    public var objectId: String
    public var name: String?
    public var size: Int
    public var uploadedAt: Date
    public var programs: [ProgramDescription]
    public var maps: [MapDescription]
    public var globals: [GlobalVariable]
    /// Probes currently loaded from this object.
    public var usedBy: [String]
    /// The signatures the node holds for it (`object.upload`'s). Absent
    /// when it has none, and from older servers.
    public var signatures: [ObjectSignature]?
    /// On a node with an object policy: the trusted keys whose signatures
    /// verified, by the policy's names, and `satisfied`, or `audited` when
    /// the policy's `unsigned: audit` let it in without enough of them.
    /// Both absent without a policy.
    public var signers: [ObjectSigner]?
    public var policy: String?

    public init(objectId: String, name: String?, size: Int, uploadedAt: Date, programs: [ProgramDescription],
                maps: [MapDescription], globals: [GlobalVariable], usedBy: [String]) {
        self.objectId = objectId
        self.name = name
        self.size = size
        self.uploadedAt = uploadedAt
        self.programs = programs
        self.maps = maps
        self.globals = globals
        self.usedBy = usedBy
    }
}

/// A program loaded into the kernel as part of a probe.
public struct LoadedProgram: Codable, Sendable, Hashable {
    public var name: String
    public var section: String
    public var type: String
    public var id: UInt32
    public var tag: String
    /// Instructions the verifier processed (kernel 5.16+), and the size of
    /// the program after loading.
    public var verifiedInstructions: UInt32?
    public var instructions: UInt32
    /// Present when the kernel keeps run statistics (BPF_ENABLE_STATS).
    public var runCount: UInt64?
    public var runTimeNs: UInt64?

    public init(name: String, section: String, type: String, id: UInt32, tag: String, verifiedInstructions: UInt32?,
                instructions: UInt32, runCount: UInt64?, runTimeNs: UInt64?) {
        self.name = name
        self.section = section
        self.type = type
        self.id = id
        self.tag = tag
        self.verifiedInstructions = verifiedInstructions
        self.instructions = instructions
        self.runCount = runCount
        self.runTimeNs = runTimeNs
    }
}

/// A map held by a probe, with its kernel id and pin.
public struct LoadedMap: Codable, Sendable, Hashable {
    public var name: String
    public var probe: String?
    public var type: String
    public var id: UInt32
    public var keySize: UInt32
    public var valueSize: UInt32
    public var maxEntries: UInt32
    public var keyType: String?
    public var valueType: String?
    public var pinPath: String?

    public init(name: String, probe: String?, type: String, id: UInt32, keySize: UInt32, valueSize: UInt32,
                maxEntries: UInt32, keyType: String?, valueType: String?, pinPath: String?) {
        self.name = name
        self.probe = probe
        self.type = type
        self.id = id
        self.keySize = keySize
        self.valueSize = valueSize
        self.maxEntries = maxEntries
        self.keyType = keyType
        self.valueType = valueType
        self.pinPath = pinPath
    }
}

/// An attachment of one program of a probe.
public struct LinkDescription: Codable, Sendable, Hashable {
    public var linkId: Int
    /// The kernel's link id (`bpftool link show`): the first of `ids`, or
    /// 0 when the attachment is no kernel link (a classic tc filter) or is
    /// not in the kernel (`state` other than `attached`).
    public var id: UInt32
    /// Every kernel link id of the attachment, in part order: one for most
    /// targets, one per CPU for `perf_event`, none for a classic tc filter.
    /// Absent from older servers.
    public var ids: [UInt32]?
    public var program: String
    public var target: AttachTarget
    /// For an `auto` target: the target the program's section named, the
    /// one the link is attached to. Absent for other targets, for an lsm
    /// section, and from older servers.
    public var resolvedTarget: AttachTarget?
    public var pinPath: String?
    public var attachedAt: Date
    /// `attached` (in the kernel and running), `missing` (attached, but the
    /// kernel has let go of it: its interface or filter is gone), or
    /// `failed` (in the desired state but not attached: it could not be
    /// taken over or attached again at start-up). Absent from older servers.
    public var state: String?
    /// Why a link is `missing` or `failed`.
    public var stateReason: String?

    public init(linkId: Int, id: UInt32, ids: [UInt32]? = nil, program: String, target: AttachTarget, resolvedTarget: AttachTarget? = nil,
                pinPath: String?, attachedAt: Date, state: String? = nil, stateReason: String? = nil) {
        self.linkId = linkId
        self.id = id
        self.ids = ids
        self.program = program
        self.target = target
        self.resolvedTarget = resolvedTarget
        self.pinPath = pinPath
        self.attachedAt = attachedAt
        self.state = state
        self.stateReason = stateReason
    }
}

/// A probe: one object loaded under a name, its programs, maps and links.
public struct ProbeDescription: Codable, Sendable, Hashable {
    public var name: String
    public var objectId: String
    public var labels: [String: String]
    public var globals: [String: JSONValue]
    public var loadedAt: Date
    public var programs: [LoadedProgram]
    public var maps: [LoadedMap]
    public var links: [LinkDescription]
    /// How this bpfleetd came to hold the probe: `loaded` (a `probe.load`
    /// it served), `adopted` (found pinned at start-up, same kernel
    /// objects), or `restored` (loaded again at start-up from the desired
    /// state because the pins were gone). Absent from older servers.
    public var origin: String?
    /// `running`; `degraded` (running, but some links of the desired state
    /// could not be attached again: `restoreError` says which); `failed`
    /// (nothing of it is in the kernel: `restoreError` says why; unload
    /// forgets it). Absent from older servers.
    public var state: String?
    /// When this bpfleetd adopted or restored the probe.
    public var adoptedAt: Date?
    public var restoredAt: Date?
    public var restoreError: String?
    /// In the answer to a `probe.load` with `replace`: the kernel ids of
    /// the programs it freed. Absent otherwise.
    public var replacedProgramIds: [UInt32]?
    /// The map settings the probe was loaded with (`probe.load`'s `maps`);
    /// absent when none were given, and from older servers.
    public var mapSettings: [String: MapSettings]?
    /// The map exports it was loaded with (`probe.load`'s `metrics`);
    /// absent when none were given, and from older servers.
    public var metrics: [MetricExport]?
    /// In the answer to `probe.get`: the struct types the probe's object
    /// defines (named structs of its BTF that the kernel's BTF does not
    /// have), as `struct NAME`, sorted: what a `recordType` of
    /// `events.subscribe` or `iter.read` is likely to be. Absent
    /// elsewhere, and from older servers.
    public var recordTypes: [String]?
    /// On a node with an object policy: the trusted keys that signed the
    /// probe's object (the object's `signers`), and the policy's verdict
    /// (`satisfied` or `audited`). Absent without a policy.
    public var signers: [ObjectSigner]?
    public var policy: String?

    public init(name: String, objectId: String, labels: [String: String], globals: [String: JSONValue], loadedAt: Date,
                programs: [LoadedProgram], maps: [LoadedMap], links: [LinkDescription], origin: String? = nil,
                state: String? = nil, adoptedAt: Date? = nil, restoredAt: Date? = nil, restoreError: String? = nil,
                replacedProgramIds: [UInt32]? = nil, mapSettings: [String: MapSettings]? = nil, metrics: [MetricExport]? = nil) {
        self.replacedProgramIds = replacedProgramIds
        self.metrics = metrics
        self.mapSettings = mapSettings
        self.name = name
        self.objectId = objectId
        self.labels = labels
        self.globals = globals
        self.loadedAt = loadedAt
        self.programs = programs
        self.maps = maps
        self.links = links
        self.origin = origin
        self.state = state
        self.adoptedAt = adoptedAt
        self.restoredAt = restoredAt
        self.restoreError = restoreError
    }
}

/// One map entry in typed or hex form.
public struct MapEntry: Codable, Sendable, Hashable {
    public var key: JSONValue
    public var value: JSONValue
    /// With `symbolize`, for a map whose entries hold stack ids: each
    /// stack-id member's frames, or why there are none (`{"reason": ...}`).
    public var stacks: [String: JSONValue]?

    public init(key: JSONValue, value: JSONValue, stacks: [String: JSONValue]? = nil) {
        self.key = key
        self.value = value
        self.stacks = stacks
    }
}

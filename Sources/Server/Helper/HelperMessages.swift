import BpfleetShared

/// What bpfleetd asks its object helper; the object's bytes are the
/// message's payload.
struct HelperRequest: Codable, Sendable {
    enum Operation: String, Codable, Sendable {
        /// Open the object (libbpf's ELF and BTF parsing, bpfleetd's BTF
        /// checks) and describe its programs, maps and globals.
        case describe
        /// Open it, load the probe through the verifier and pin its
        /// programs and maps under `load.pinDirectory`.
        case load
        /// Open it, run its programs through the verifier, free everything (ProbeVerifier).
        case verify
    }

    var operation: Operation
    /// What libbpf calls the object in its messages.
    var name: String
    var load: LoadSpec?
    var verify: VerifySpec?

    struct LoadSpec: Codable, Sendable {
        var probe: ProbeLoad
        var pinDirectory: String
        /// Maps the new object takes over instead of creating its own
        /// (a replace's kept maps), by name: their pins.
        var reuse: [String: String]
        /// --max-probe-memory (KernelMemoryBudget).
        var maxProbeMemory: UInt64
    }
}

/// A program as libbpf opened it: what attaching it needs that the kernel
/// does not keep (the section, the expected attach type).
struct ProgramFacts: Codable, Sendable, Hashable {
    var name: String
    var section: String
    var type: UInt32
    var expectedAttachType: UInt32
}

/// The helper's answer: a description, or the error the request gets.
struct HelperReply: Codable, Sendable {
    struct Described: Codable, Sendable, Hashable {
        var programs: [ProgramDescription]
        var maps: [MapDescription]
        var globals: [GlobalVariable]
        var facts: [ProgramFacts]
    }

    /// What a load pinned: its programs (at `DIR/programs/NAME`) and its
    /// maps by name (at `ProbeLoader.mapPinPath`).
    struct Loaded: Codable, Sendable, Hashable {
        var programs: [ProgramFacts]
        var maps: [String]
    }

    var described: Described?
    var loaded: Loaded?
    var verified: [Verdict]?
    var error: ResponseError?
}

/// Limits the helper runs under (docs/hostile-input.md).
public struct HelperLimits: Sendable, Hashable {
    /// Private writable memory (heap, anonymous mappings, stacks), in
    /// bytes (RLIMIT_DATA): what parsing an object can make it allocate.
    public var memoryBytes: Int
    /// CPU seconds per request (RLIMIT_CPU, set afresh for each).
    public var cpuSeconds: Int
    /// Seconds bpfleetd waits for an answer before it kills the helper.
    public var timeoutSeconds: Double

    public init(memoryBytes: Int = 1 << 30, cpuSeconds: Int = 30, timeoutSeconds: Double = 60) {
        self.memoryBytes = memoryBytes
        self.cpuSeconds = cpuSeconds
        self.timeoutSeconds = timeoutSeconds
    }
}

import BpfleetShared

/// What bpfleetd asks its object helper; the object's bytes are the
/// message's payload.
struct HelperRequest: Codable, Sendable {
    enum Operation: String, Codable, Sendable {
        /// Open the object (libbpf's ELF and BTF parsing, bpfleetd's BTF
        /// checks) and describe its programs, maps and globals.
        case describe
    }

    var operation: Operation
    /// What libbpf calls the object in its messages.
    var name: String
}

/// The helper's answer: a description, or the error the request gets.
struct HelperReply: Codable, Sendable {
    struct Described: Codable, Sendable, Hashable {
        var programs: [ProgramDescription]
        var maps: [MapDescription]
        var globals: [GlobalVariable]
    }

    var described: Described?
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

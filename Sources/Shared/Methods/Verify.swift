/// `probe.verify`: run an uploaded object's programs through this node's
/// verifier and free everything again: a verdict per program, and what of
/// the object this node cannot serve.
///
/// It changes nothing on the node (no probe, pin, link, desired state or
/// descriptor is left), but it loads programs and creates maps in the
/// kernel as root for a moment, from bytes a client sent: it needs the
/// operator role and is audited, as `object.upload` and `probe.load` are
/// (docs/security.md).
public struct ProbeVerify: RPCMethod {
    public static let method = "probe.verify"
    /// Not a change, but root work on a client's object: operator, audited.
    public static let changesNode = true
    public var objectId: String
    /// Programs to verify; all of the object's when absent.
    public var programs: [String]?
    /// Values for `.rodata` / `.data` / `.bss` variables, as `probe.load` takes them.
    public var globals: [String: JSONValue]?
    /// Map settings, as `probe.load` takes them.
    public var maps: [String: MapSettings]?

    public init(objectId: String, programs: [String]? = nil, globals: [String: JSONValue]? = nil, maps: [String: MapSettings]? = nil) {
        self.objectId = objectId
        self.programs = programs
        self.globals = globals
        self.maps = maps
    }

    /// The verdicts.
    public struct Result: Codable, Sendable, Hashable {
        /// `uname -r` of the node.
        public var kernelRelease: String
        /// Each program asked for, in object order.
        public var programs: [ProgramVerdict]
        /// What the object needs that the node lacks: feature → why.
        public var missingFeatures: [String: String]

        public init(kernelRelease: String, programs: [ProgramVerdict], missingFeatures: [String: String]) {
            self.kernelRelease = kernelRelease
            self.programs = programs
            self.missingFeatures = missingFeatures
        }

        /// Whether every program verified.
        public var verified: Bool { programs.allSatisfy { $0.verdict == ProgramVerdict.verified } }
    }

    /// One program's verdict.
    public struct ProgramVerdict: Codable, Sendable, Hashable {
        public static let verified = "verified"
        public static let rejected = "rejected"
        public static let unsupported = "unsupported"

        public var name: String
        public var section: String
        public var type: String
        /// `verified`, `rejected` or `unsupported`.
        public var verdict: String
        /// The kernel's translated instructions (xlated), when verified.
        public var instructions: Int?
        /// The instructions the verifier processed (`verified_insns`), when verified.
        public var verifiedInstructions: Int?
        /// Why it was rejected or is unsupported, in a line.
        public var reason: String?
        /// The verifier's log, when it rejected the program.
        public var log: String?
        /// Whether the log was cut at the log buffer's size.
        public var logTruncated: Bool?
        /// The feature the node lacks, when unsupported.
        public var missingFeature: String?

        public init(name: String, section: String, type: String, verdict: String, instructions: Int? = nil,
                    verifiedInstructions: Int? = nil, reason: String? = nil, log: String? = nil, logTruncated: Bool? = nil,
                    missingFeature: String? = nil) {
            self.name = name
            self.section = section
            self.type = type
            self.verdict = verdict
            self.instructions = instructions
            self.verifiedInstructions = verifiedInstructions
            self.reason = reason
            self.log = log
            self.logTruncated = logTruncated
            self.missingFeature = missingFeature
        }
    }
}

extension ProbeVerify {
    public static let wireSummary = "Runs an uploaded object's programs through this node's verifier, as `probe.load` would load them, and frees everything: a verdict per program (a rejected program does not hide the others' verdicts) and the features the object needs that the node lacks. Nothing is pinned, attached or recorded. Operator role: it runs the verifier as root on a client's object."
    public static let wireFields: [String: WireField] = [
        "objectId": "The uploaded object to verify.",
        "programs": "The programs to verify, by name; all of the object's when absent.",
        "globals": "Values for `.rodata`, `.data` and `.bss` variables by name, as `probe.load` takes them.",
        "maps": "Settings for the object's maps by map name, as `probe.load` takes them.",
    ]
    public static let errors: [ErrorCode] = [.notFound, .invalidObject, .limitExceeded, .kernelError]
    public static let example = ProbeVerify(objectId: ObjectDescription.example.objectId)
    public static var exampleResult: Result {
        Result(kernelRelease: "6.1.0-28-amd64", programs: [
            ProgramVerdict(name: "count_exec", section: "tracepoint/sched/sched_process_exec", type: "tracepoint", verdict: "verified",
                           instructions: 24, verifiedInstructions: 22),
        ], missingFeatures: [:])
    }
}

extension ProbeVerify.Result: WireDocumented {
    public static let wireSummary = "The verdict of each program, and what the node lacks."
    public static let wireFields: [String: WireField] = [
        "kernelRelease": "The node's kernel (`uname -r`).",
        "programs": "Each program asked for, in object order.",
        "missingFeatures": "Kernel features (or node policies) the object's programs need that this node lacks, each with why: the `missingFeature` of its unsupported programs.",
    ]
}

extension ProbeVerify.ProgramVerdict: WireDocumented {
    public static let wireSummary = "One program's verdict."
    public static let wireFields: [String: WireField] = [
        "name": "The program's name.",
        "section": "Its ELF section.",
        "type": "Its program type, as libbpf names it.",
        "verdict": WireField("`verified` (the kernel loaded it), `rejected` (the verifier or the kernel refused it: `reason`, `log`) or `unsupported` (the node cannot serve it: `missingFeature`; not loaded).",
                             values: ["verified", "rejected", "unsupported"]),
        "instructions": WireField("Verified: the kernel's translated (xlated) instructions, as `bpftool prog show` counts them.", minimum: 0),
        "verifiedInstructions": WireField("Verified: the instructions the verifier processed (`verified_insns`).", minimum: 0),
        "reason": "Rejected or unsupported: why, in a line.",
        "log": "Rejected by the verifier: its log, up to the same 16 MiB `probe.load` keeps.",
        "logTruncated": "Whether the log was cut at that size.",
        "missingFeature": "Unsupported: the feature the node lacks, as -32008's `data.feature` names it (`fentry (BPF trampoline)`, `program type kprobe (refused by this node's policy)`).",
    ]
}

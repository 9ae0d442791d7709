/// `iter.read`: runs an iterator program of a probe (`iter/task`,
/// `iter/bpf_map`, `iter/tcp`, ...) once and answers what it wrote: a
/// query of live kernel state (docs/protocol.md, "Iterators").
public struct IterRead: RPCMethod {
    public static let method = "iter.read"
    public var probe: String
    public var program: String
    /// For an iterator over one map's elements (`iter/bpf_map_elem`,
    /// `iter/bpf_sk_storage_map`): the map it walks.
    public var map: MapRef?
    /// Read the output as records of this BTF type of the probe's object
    /// (what `bpf_seq_write` wrote), typed like map values.
    public var recordType: String?
    /// The most bytes to read (default 1 MiB, at most 64 MiB); past it the
    /// answer is `truncated`.
    public var limit: Int?

    public init(probe: String, program: String, map: MapRef? = nil, recordType: String? = nil, limit: Int? = nil) {
        self.probe = probe
        self.program = program
        self.map = map
        self.recordType = recordType
        self.limit = limit
    }

    public struct Result: Codable, Sendable, Hashable {
        /// What the iterator wrote, as text (`encoding` "text") or, when it
        /// is not UTF-8, base64 (`encoding` "base64"); absent with `recordType`.
        public var output: String?
        public var encoding: String?
        /// With `recordType`: each whole record, typed.
        public var records: [JSONValue]?
        /// Bytes the iterator wrote (at most the limit).
        public var bytes: Int
        /// True when the iterator had more to write than the limit.
        public var truncated: Bool
        /// True when text output held bytes that are not UTF-8 (read as U+FFFD).
        public var lossy: Bool?

        public init(output: String? = nil, encoding: String? = nil, records: [JSONValue]? = nil, bytes: Int, truncated: Bool) {
            self.output = output
            self.encoding = encoding
            self.records = records
            self.bytes = bytes
            self.truncated = truncated
        }
    }
}

extension IterRead {
    public static let wireSummary = "Runs an iterator program of a probe (`iter/task`, `iter/bpf_map`, ...) once and answers what it wrote: a query of live kernel state (docs/protocol.md, \"Iterators\")."
    public static let wireFields: [String: WireField] = [
        "probe": "The probe's name.",
        "program": "The iterator program.",
        "map": "For an iterator over one map's elements (`iter/bpf_map_elem`): the map it walks.",
        "recordType": "Read the output as records of this BTF type of the probe's object (what `bpf_seq_write` wrote), typed like map values.",
        "limit": WireField("The most bytes to read (default 1 MiB, at most 64 MiB); past it the answer is `truncated`.", minimum: 1, maximum: 64 << 20),
    ]
    public static let errors: [ErrorCode] = [.notFound, .conflict, .unsupported, .limitExceeded, .kernelError]
    public static let example = IterRead(probe: "tasks", program: "dump_task")
    public static let exampleResult = Result(output: "1 systemd\n2 kthreadd\n", encoding: "text", bytes: 22, truncated: false)
}

extension IterRead.Result: WireDocumented {
    public static let wireSummary = "What the iterator wrote."
    public static let wireFields: [String: WireField] = [
        "output": "What the iterator wrote, as text or base64 (`encoding`); absent with `recordType`.",
        "encoding": WireField("`text` when the output is UTF-8, else `base64`.", values: ["text", "base64"]),
        "records": "With `recordType`: each whole record, typed.",
        "bytes": WireField("Bytes the iterator wrote (at most the limit).", minimum: 0),
        "truncated": "True when the iterator had more to write than the limit.",
        "lossy": "True when text output held bytes that are not UTF-8 (read as U+FFFD).",
    ]
}

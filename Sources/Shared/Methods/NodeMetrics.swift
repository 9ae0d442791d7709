/// `node.metrics`: what this node exports to Prometheus (docs/metrics.md),
/// the same text its `--metrics-listen` endpoint serves.
public struct NodeMetrics: RPCMethod {
    public static let method = "node.metrics"
    /// Only this probe's series: its programs' and its map exports.
    public var probe: String?

    public init(probe: String? = nil) {
        self.probe = probe
    }

    public struct Result: Codable, Sendable, Hashable {
        /// The Prometheus text exposition format (0.0.4).
        public var text: String
        public init(text: String) { self.text = text }
    }
}

extension NodeMetrics {
    public static let wireSummary = "What this node exports to Prometheus, rendered now: the text `bpfleetd --metrics-listen` serves at `/metrics` (docs/metrics.md)."
    public static let wireFields: [String: WireField] = [
        "probe": "Only this probe's series: its programs' run statistics and its map exports.",
    ]
    public static let errors: [ErrorCode] = [.notFound]
    public static let example = NodeMetrics()
    public static let exampleResult = Result(text: """
        # HELP bpfleet_rpc_calls_total JSON-RPC requests answered, by method and error code (0: success).
        # TYPE bpfleet_rpc_calls_total counter
        bpfleet_rpc_calls_total{method="node.info",code="0"} 3

        """)
}

extension NodeMetrics.Result: WireDocumented {
    public static let wireSummary = "The node's metrics."
    public static let wireFields: [String: WireField] = [
        "text": "The Prometheus text exposition format (version 0.0.4), as `GET /metrics` answers it.",
    ]
}

import BpfleetShared

/// One step of a rollout, as it happens: what `bpfleet apply -o ndjson`
/// prints, one JSON object a line, with `event` naming the kind
/// (docs/fleet.md lists them with examples).
public enum RolloutEvent: Sendable, Encodable {
    case plan(Plan)
    case node(NodeStep)
    case batch(BatchDone)
    case pause(Pause)
    case stopped(Stop)
    case rollback(RollbackStep)
    case done(RolloutSummary)

    public struct Plan: Sendable, Encodable {
        public var probe: String
        public var spec: String?
        public var nodes: Int
        /// Each batch's nodes, the canary first.
        public var batches: [[String]]
        public var dryRun: Bool
    }

    public struct NodeStep: Sendable, Encodable {
        public var batch: Int
        public var node: String
        public var address: String
        /// What was done (or, in a dry run, would be); absent on failure.
        public var action: NodeAction?
        /// How the node compared before: `in sync`, `missing`, `different`.
        public var drift: String?
        public var detail: String?
        public var error: NodeFailure?

        public var ok: Bool { error == nil }

        init(batch: Int, node: String, address: String) {
            self.batch = batch
            self.node = node
            self.address = address
        }

        enum CodingKeys: String, CodingKey { case batch, node, address, ok, action, drift, detail, error }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(batch, forKey: .batch)
            try container.encode(node, forKey: .node)
            try container.encode(address, forKey: .address)
            try container.encode(ok, forKey: .ok)
            try container.encodeIfPresent(action, forKey: .action)
            try container.encodeIfPresent(drift, forKey: .drift)
            if let detail, !detail.isEmpty { try container.encode(detail, forKey: .detail) }
            try container.encodeIfPresent(error, forKey: .error)
        }
    }

    public struct BatchDone: Sendable, Encodable {
        public var batch: Int
        public var nodes: Int
        public var ok = 0
        public var failed = 0
        public var unreachable = 0
    }

    public struct Pause: Sendable, Encodable {
        public var afterBatch: Int
        public var seconds: Double
    }

    public struct Stop: Sendable, Encodable {
        public var reason: String
        public var afterBatch: Int
        public var notStarted: Int
    }

    public struct RollbackStep: Sendable, Encodable {
        public var node: String
        public var address: String
        public var action: NodeAction?
        public var error: NodeFailure?

        init(node: String, address: String) {
            self.node = node
            self.address = address
        }
    }

    /// The `event` word of each kind.
    public var name: String {
        switch self {
        case .plan: "plan"
        case .node: "node"
        case .batch: "batch"
        case .pause: "pause"
        case .stopped: "stopped"
        case .rollback: "rollback"
        case .done: "done"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: EventKey.self)
        try container.encode(name, forKey: .event)
        switch self {
        case .plan(let value): try value.encode(to: encoder)
        case .node(let value): try value.encode(to: encoder)
        case .batch(let value): try value.encode(to: encoder)
        case .pause(let value): try value.encode(to: encoder)
        case .stopped(let value): try value.encode(to: encoder)
        case .rollback(let value): try value.encode(to: encoder)
        case .done(let value): try value.encode(to: encoder)
        }
    }

    private enum EventKey: String, CodingKey { case event }
}

/// How a rollout ended, with counts.
public struct RolloutSummary: Sendable, Encodable, Hashable {
    public enum Result: String, Sendable, Encodable, Hashable {
        /// Every batch ran (some nodes may have failed, within maxFailures).
        case complete
        /// Stopped on failures; nodes already changed keep the new probe.
        case stopped
        /// Stopped on failures, and every changed node was put back.
        case rolledBack
        /// Stopped, and some nodes could not be put back (see the events).
        case rollbackIncomplete
    }

    public var result: Result = .complete
    public var nodes: Int
    public var created = 0
    public var replaced = 0
    public var repaired = 0
    public var unchanged = 0
    public var failed = 0
    public var unreachable = 0
    /// Nodes of batches the rollout did not start.
    public var notStarted = 0
    public var batchesDone = 0
    public var rolledBack = 0
    public var rollbackFailed = 0

    public init(nodes: Int) { self.nodes = nodes }

    mutating func count(_ action: NodeAction) {
        switch action {
        case .created: created += 1
        case .replaced: replaced += 1
        case .repaired: repaired += 1
        case .unchanged, .unloaded, .restored, .absent: unchanged += 1
        }
    }

    /// Nodes that hold the spec now (or, dry, would).
    public var succeeded: Int { created + replaced + repaired + unchanged }
}

/// Why a node's step failed, for events and tables: the node's JSON-RPC
/// error, or the client's (`kind` as in docs/cli.md's failure table).
public struct NodeFailure: Sendable, Encodable, Hashable {
    /// `unreachable`, `timeout`, `tls`, ... for a client failure; `node` for
    /// an error the node answered.
    public var kind: String
    public var code: Int?
    public var message: String
    public var data: JSONValue?
    /// No connection could be made: nothing on the node was touched.
    public var unreachable: Bool

    public init(_ error: any Error) {
        var error = error
        if let step = error as? Rollout.StepFailure { error = step.error }
        if let failure = error as? MethodFailure { error = failure.error }
        switch error {
        case let response as ResponseError:
            self.init(kind: "node", code: Int(response.code.rawValue), message: response.message, data: response.data, unreachable: false)
        case let client as ClientError:
            self.init(kind: client.kind, code: nil, message: client.reason, data: nil, unreachable: NodeStatus(failure: client) == .unreachable)
        default:
            self.init(kind: "client", code: nil, message: "\(error)", data: nil, unreachable: NodeStatus(failure: error) == .unreachable)
        }
    }

    init(kind: String, code: Int?, message: String, data: JSONValue?, unreachable: Bool) {
        self.kind = kind
        self.code = code
        self.message = message
        self.data = data
        self.unreachable = unreachable
    }

    enum CodingKeys: String, CodingKey { case kind, code, message, data }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(code, forKey: .code)
        try container.encode(message, forKey: .message)
        try container.encodeIfPresent(data, forKey: .data)
    }
}

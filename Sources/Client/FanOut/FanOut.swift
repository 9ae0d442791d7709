import BpfleetShared

/// Runs one operation against many nodes at once, at most `concurrency` at a
/// time. A node not yet started costs nothing but its place in the list.
///
/// With targets and an operation on a connection (`run(_:order:calling:deliver:)`,
/// `collect(_:calling:)`, `call`), each node is connected to within
/// `connectTimeout` per attempt, a transient failure to connect is tried
/// again up to `retries` times after a `backoff`, and the operation then has
/// `timeout`. A request is never sent twice: once connected, a failure is
/// the node's outcome. With any other operation (`run(_:order:_:)`,
/// `collect(_:_:)`), `timeout` bounds the whole operation.
public struct FanOut: Sendable {
    /// In which order outcomes are handed on.
    public enum Order: Sendable {
        /// As each node answers (ndjson).
        case completion
        /// In the order the nodes were given (a JSON array). A node is only
        /// started while fewer than `concurrency` nodes before it are still
        /// undelivered, so finished outcomes waiting on a slow node never
        /// number more than `concurrency`.
        case given
    }

    public var concurrency: Int
    /// Per attempt at connecting: TCP or the Unix socket, and the TLS handshake.
    public var connectTimeout: Duration
    /// Per node, from connected to the answer.
    public var timeout: Duration
    /// How many more attempts a transient failure to connect gets.
    public var retries: Int
    public var backoff: Backoff
    /// One attempt at connecting; tests count attempts through it.
    var attempt: @Sendable (NodeTarget, Duration) async throws -> NodeConnection = { target, timeout in
        try await NodeConnection.attempt(to: target, timeout: timeout)
    }

    public static let defaultConcurrency = 64
    public static let defaultConnectTimeout = Duration.seconds(5)
    public static let defaultTimeout = Duration.seconds(10)
    public static let defaultRetries = 2

    public init(concurrency: Int = defaultConcurrency, connectTimeout: Duration = defaultConnectTimeout,
                timeout: Duration = defaultTimeout, retries: Int = defaultRetries, backoff: Backoff = Backoff()) {
        precondition(concurrency > 0, "concurrency must be at least 1")
        precondition(retries >= 0, "retries must not be negative")
        self.concurrency = concurrency
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
    }

    // MARK: Connections

    /// Connects to a node, trying again after a transient failure (refused,
    /// reset, timed out, unreachable host or network, a full backlog) up to
    /// `retries` times. The error is the last attempt's.
    public func connect(to target: NodeTarget) async throws -> NodeConnection {
        var retry = 0
        while true {
            do {
                return try await attempt(target, connectTimeout)
            } catch let failure as ConnectAttemptFailure {
                guard failure.isTransient, retry < retries else { throw failure.error }
                retry += 1
                try await Task.sleep(for: backoff.delay(beforeRetry: retry))
            }
        }
    }

    /// Connects (see `connect`), runs `operation` within `timeout`, and
    /// closes the connection whatever happens.
    public func call<Value: Sendable>(
        _ target: NodeTarget,
        _ operation: @escaping @Sendable (NodeConnection) async throws -> Value
    ) async throws -> Value {
        let connection = try await connect(to: target)
        do {
            let value = try await withTimeout(timeout, waitingFor: target.address) { try await operation(connection) }
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Every node's outcome of `call`, in the order the nodes were given.
    /// (Write the `calling:` label: a trailing closure would also fit
    /// `collect(_:_:)`.)
    public func collect<Value: Sendable>(
        _ targets: [NodeTarget],
        calling operation: @escaping @Sendable (NodeConnection) async throws -> Value
    ) async -> [NodeOutcome<Value>] {
        var outcomes = [NodeOutcome<Value>?](repeating: nil, count: targets.count)
        await run(targets, order: .completion, calling: operation) { outcomes[$0.index] = $0 }
        return outcomes.map { $0! }
    }

    /// Hands each node's outcome of `call` to `deliver` as soon as `order`
    /// allows. `deliver` is called from this task, one outcome at a time.
    public func run<Value: Sendable>(
        _ targets: [NodeTarget],
        order: Order,
        calling operation: @escaping @Sendable (NodeConnection) async throws -> Value,
        deliver: (NodeOutcome<Value>) async -> Void
    ) async {
        let fanOut = self
        await dispatch(targets, order: order, limit: nil, { target in try await fanOut.call(target, operation) }, deliver: deliver)
    }

    // MARK: Any operation

    /// Every node's outcome, in the order the nodes were given.
    public func collect<Node: NodeAddressing, Value: Sendable>(
        _ nodes: [Node],
        _ operation: @escaping @Sendable (Node) async throws -> Value
    ) async -> [NodeOutcome<Value>] {
        var outcomes = [NodeOutcome<Value>?](repeating: nil, count: nodes.count)
        await run(nodes, order: .completion, operation) { outcomes[$0.index] = $0 }
        return outcomes.map { $0! }
    }

    /// Hands each node's outcome to `deliver` as soon as `order` allows,
    /// each operation bounded by `timeout`. `deliver` is called from this
    /// task, one outcome at a time.
    public func run<Node: NodeAddressing, Value: Sendable>(
        _ nodes: [Node],
        order: Order,
        _ operation: @escaping @Sendable (Node) async throws -> Value,
        deliver: (NodeOutcome<Value>) async -> Void
    ) async {
        await dispatch(nodes, order: order, limit: timeout, operation, deliver: deliver)
    }

    private func dispatch<Node: NodeAddressing, Value: Sendable>(
        _ nodes: [Node],
        order: Order,
        limit: Duration?,
        _ operation: @escaping @Sendable (Node) async throws -> Value,
        deliver: (NodeOutcome<Value>) async -> Void
    ) async {
        await withTaskGroup(of: NodeOutcome<Value>.self) { group in
            var nextToStart = 0
            var nextToDeliver = 0
            var inFlight = 0
            var waiting: [Int: NodeOutcome<Value>] = [:]

            while true {
                while nextToStart < nodes.count,
                      order == .completion ? inFlight < concurrency : nextToStart - nextToDeliver < concurrency {
                    let index = nextToStart
                    let node = nodes[index]
                    let address = node.address
                    group.addTask {
                        do {
                            let value = if let limit {
                                try await withTimeout(limit, waitingFor: address) { try await operation(node) }
                            } else {
                                try await operation(node)
                            }
                            return NodeOutcome(index: index, node: address, result: .success(value))
                        } catch {
                            return NodeOutcome(index: index, node: address, result: .failure(error))
                        }
                    }
                    nextToStart += 1
                    inFlight += 1
                }
                guard let outcome = await group.next() else { return }
                inFlight -= 1
                switch order {
                case .completion:
                    await deliver(outcome)
                case .given:
                    waiting[outcome.index] = outcome
                    while let next = waiting.removeValue(forKey: nextToDeliver) {
                        await deliver(next)
                        nextToDeliver += 1
                    }
                }
            }
        }
    }
}

/// What a fan-out needs of a node: its address. A bare `NodeAddress`, or a
/// `NodeTarget` that also carries a name and TLS credentials.
public protocol NodeAddressing: Sendable {
    var address: NodeAddress { get }
}

extension NodeAddress: NodeAddressing {
    public var address: NodeAddress { self }
}

extension NodeTarget: NodeAddressing {}

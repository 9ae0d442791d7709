import BpfleetShared

/// Runs one operation against many nodes at once, at most `concurrency` at a
/// time, each bounded by `timeout` (connect and call together). A node not
/// yet started costs nothing but its place in the list.
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
    public var timeout: Duration

    public static let defaultConcurrency = 64
    public static let defaultTimeout = Duration.seconds(10)

    public init(concurrency: Int = defaultConcurrency, timeout: Duration = defaultTimeout) {
        precondition(concurrency > 0, "concurrency must be at least 1")
        self.concurrency = concurrency
        self.timeout = timeout
    }

    /// Every node's outcome, in the order the nodes were given.
    public func collect<Node: NodeAddressing, Value: Sendable>(
        _ nodes: [Node],
        _ operation: @escaping @Sendable (Node) async throws -> Value
    ) async -> [NodeOutcome<Value>] {
        var outcomes = [NodeOutcome<Value>?](repeating: nil, count: nodes.count)
        await run(nodes, order: .completion, operation) { outcomes[$0.index] = $0 }
        return outcomes.map { $0! }
    }

    /// Hands each node's outcome to `deliver` as soon as `order` allows.
    /// `deliver` is called from this task, one outcome at a time.
    public func run<Node: NodeAddressing, Value: Sendable>(
        _ nodes: [Node],
        order: Order,
        _ operation: @escaping @Sendable (Node) async throws -> Value,
        deliver: (NodeOutcome<Value>) async -> Void
    ) async {
        let timeout = self.timeout
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
                            let value = try await withTimeout(timeout, waitingFor: address) { try await operation(node) }
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

import Foundation

/// What a streaming run's nodes are doing, so that Ctrl-C, `--duration`
/// and the end of every subscription can stop them: a node still
/// connecting is cancelled; a subscribed node's iteration is interrupted
/// and the node's own task then asks its node to cancel the subscription
/// before closing the connection.
final class RunControl: @unchecked Sendable {
    private enum NodeState {
        case starting(cancel: (@Sendable () -> Void)?)
        case running(Subscription)
        case done
    }

    private let lock = NSLock()
    private var nodes: [NodeState]
    /// Nodes whose subscription was interrupted while the node still held it.
    private var owesCancel: Set<Int> = []
    private(set) var isStopping = false

    init(nodes: Int) {
        self.nodes = Array(repeating: .starting(cancel: nil), count: nodes)
    }

    /// How to cancel the node's connecting and subscribing on a stop.
    func starting(_ node: Int, cancel: @escaping @Sendable () -> Void) {
        lock.lock()
        let stopping = isStopping
        if case .starting = nodes[node] { nodes[node] = .starting(cancel: cancel) }
        lock.unlock()
        if stopping { cancel() }
    }

    /// The node is subscribed; false when a stop came first (and the
    /// caller must cancel the subscription itself).
    func running(_ node: Int, _ subscription: Subscription) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !isStopping else { return false }
        nodes[node] = .running(subscription)
        return true
    }

    func done(_ node: Int) {
        lock.lock()
        nodes[node] = .done
        lock.unlock()
    }

    /// Whether the node's subscription was interrupted by a stop while the
    /// node still held it: its task must ask the node to cancel it.
    func takeOwedCancel(_ node: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return owesCancel.remove(node) != nil
    }

    /// Stops every node; a second call does nothing.
    func stopAll() {
        lock.lock()
        guard !isStopping else {
            lock.unlock()
            return
        }
        isStopping = true
        var setups: [@Sendable () -> Void] = []
        for (index, state) in nodes.enumerated() {
            switch state {
            case .starting(let cancel?):
                setups.append(cancel)
            case .running(let subscription):
                // Under the lock: the node's task must not look for the
                // debt before it is written down.
                if subscription.interrupt() { owesCancel.insert(index) }
            default:
                break
            }
        }
        lock.unlock()
        for cancel in setups { cancel() }
    }
}

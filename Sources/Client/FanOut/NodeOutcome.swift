import BpfleetShared

/// What one node answered in a fan-out: a value, or why it did not.
public struct NodeOutcome<Value: Sendable>: Sendable {
    /// The node's position in the list the fan-out was given.
    public var index: Int
    public var node: NodeAddress
    public var result: Result<Value, any Error>

    public init(index: Int, node: NodeAddress, result: Result<Value, any Error>) {
        self.index = index
        self.node = node
        self.result = result
    }

    public var value: Value? {
        if case .success(let value) = result { return value }
        return nil
    }

    public var error: (any Error)? {
        if case .failure(let error) = result { return error }
        return nil
    }

    public var succeeded: Bool { value != nil }
}

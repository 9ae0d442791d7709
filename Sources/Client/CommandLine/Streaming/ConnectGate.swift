/// At most `--concurrency` nodes connecting and subscribing at once. A
/// streaming command holds every node's connection for its whole run, so
/// the bound is on the setting up, not on the connections.
actor ConnectGate {
    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) {
        precondition(limit > 0)
        self.available = limit
    }

    func enter() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            available += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

import BpfleetShared

/// `events tail` for people: each record's JSON on its own line, after the
/// node when several nodes were given; lost records, ends and failures as
/// notes on stderr, so stdout holds records only.
final class EventsText: StreamPresenter {
    private let nodes: [NodeTarget]
    private let output: StandardStream
    private let errors: StandardStream
    private let prefixes: [String]

    init(nodes: [NodeTarget], outputs: SubscriptionRun.Outputs) {
        self.nodes = nodes
        self.output = StandardStream(descriptor: outputs.output)
        self.errors = StandardStream(descriptor: outputs.errors)
        self.prefixes = nodes.count > 1 ? nodes.map { "\($0)  " } : nodes.map { _ in "" }
    }

    func begin() {}

    func show(_ notification: SubscriptionNotification, node: Int, allowance: Int?, receivedAt: Double) -> Int {
        let batch: EventRecords
        do {
            batch = try EventRecords(notification)
        } catch {
            note(node, error.description)
            return 0
        }
        if batch.lost > 0 {
            output.flush()
            note(node, batch.lost == 1 ? "1 record lost" : "\(batch.lost) records lost")
        }
        let shown = allowance.map { min($0, batch.records.count) } ?? batch.records.count
        let prefix = prefixes[node]
        for record in batch.records.prefix(shown) {
            if !prefix.isEmpty { output.write(prefix) }
            output.write(record)
            output.write("\n")
        }
        output.flush()
        return shown
    }

    func ended(node: Int, notification: SubscriptionNotification) {
        note(node, "subscription ended: \(notification.endReason)")
    }

    func failed(node: Int, error: any Error) {
        note(node, FailureText.line(error))
    }

    func finish() {
        output.flush()
    }

    private func note(_ node: Int, _ text: String) {
        errors.write("bpfleet: \(nodes[node]): \(text)\n")
        errors.flush()
    }
}

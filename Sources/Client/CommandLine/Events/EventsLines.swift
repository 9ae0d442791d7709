import BpfleetShared

/// `events tail -o ndjson` / `-o json`: an element per record,
/// `{"node":NODE,"address":ADDRESS,"record":RECORD}`; before a notification's records,
/// `{"node":NODE,"address":ADDRESS,"lost":N}` when records were lost since the previous
/// one; `{"node":NODE,"address":ADDRESS,"end":REASON}` when the node ends the subscription.
final class EventsLines: StreamPresenter {
    private let nodes: [NodeTarget]
    private let tags: [NodeTag]
    private let elements: StreamElements

    init(nodes: [NodeTarget], format: OutputFormat, outputs: SubscriptionRun.Outputs) {
        self.nodes = nodes
        self.tags = nodes.map(NodeTag.init)
        self.elements = StreamElements(stream: StandardStream(descriptor: outputs.output, transcoding: format.transcoding), array: format == .json)
    }

    func begin() {
        elements.begin()
    }

    func show(_ notification: SubscriptionNotification, node: Int, allowance: Int?, receivedAt: Double) -> Int {
        let tag = tags[node]
        let batch: EventRecords
        do {
            batch = try EventRecords(notification)
        } catch {
            failed(node: node, error: ClientError.malformedMessage(nodes[node].address, detail: error.description))
            return 0
        }
        if batch.lost > 0 {
            elements.element { StreamLine.lost(batch.lost, tag: tag, into: $0) }
        }
        let shown = allowance.map { min($0, batch.records.count) } ?? batch.records.count
        for record in batch.records.prefix(shown) {
            elements.element { StreamLine.record(record, tag: tag, into: $0) }
        }
        elements.stream.flush()
        return shown
    }

    func ended(node: Int, notification: SubscriptionNotification) {
        let tag = tags[node]
        elements.element { StreamLine.end(notification.endReason, tag: tag, into: $0) }
        elements.stream.flush()
    }

    func failed(node: Int, error: any Error) {
        elements.failure(node: nodes[node], error: error)
        elements.stream.flush()
    }

    func finish() {
        elements.end()
    }
}

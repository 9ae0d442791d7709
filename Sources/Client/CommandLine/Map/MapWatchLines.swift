import BpfleetShared

/// `map watch` as lines (`-o ndjson`, `-o json`, or `-o table` when stdout
/// is not a terminal): one element per notification, the node's params
/// passed through untouched, the closing `subscription.end` included.
final class MapWatchLines: StreamPresenter {
    private let nodes: [NodeTarget]
    private let tags: [NodeTag]
    private let elements: StreamElements
    /// With `-o table` failures are for people, on stderr; otherwise they
    /// are elements like every command's.
    private let failuresAsText: Bool
    private let errors: StandardStream

    init(nodes: [NodeTarget], format: OutputFormat, outputs: SubscriptionRun.Outputs) {
        self.nodes = nodes
        self.tags = nodes.map(NodeTag.init)
        self.elements = StreamElements(stream: StandardStream(descriptor: outputs.output, transcoding: format.transcoding), array: format == .json)
        self.failuresAsText = format.isForPeople
        self.errors = StandardStream(descriptor: outputs.errors)
    }

    func begin() {
        elements.begin()
    }

    func show(_ notification: SubscriptionNotification, node: Int, allowance: Int?, receivedAt: Double) -> Int {
        write(notification, node: node)
        return 1
    }

    func ended(node: Int, notification: SubscriptionNotification) {
        write(notification, node: node)
    }

    func failed(node: Int, error: any Error) {
        if failuresAsText {
            errors.write("bpfleet: \(nodes[node]): \(FailureText.line(error))\n")
            errors.flush()
        } else {
            elements.failure(node: nodes[node], error: error)
            elements.stream.flush()
        }
    }

    func finish() {
        elements.end()
    }

    private func write(_ notification: SubscriptionNotification, node: Int) {
        let tag = tags[node]
        elements.element { StreamLine.notification(notification, tag: tag, into: $0) }
        // A script reading the stream sees each notification as it comes.
        elements.stream.flush()
    }
}

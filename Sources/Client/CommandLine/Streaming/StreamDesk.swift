import Foundation

/// Where the nodes' notifications meet the output: one presenter, called
/// one thing at a time. A node's task waits here while its notification is
/// shown, so a slow terminal holds back that node's reading (and its
/// subscription's bounded buffer) rather than growing a queue.
actor StreamDesk {
    private let presenter: any StreamPresenter
    /// What `--count` still allows, per node.
    private var remaining: [Int?]
    private var lastDraw: ContinuousClock.Instant?
    private var redrawPending = false
    private let clock = ContinuousClock()
    private let started = ContinuousClock.now
    /// A live view is redrawn at most this often.
    static let redrawInterval = Duration.milliseconds(100)

    init(presenter: sending any StreamPresenter, nodes: Int, count: Int?) {
        self.presenter = presenter
        self.remaining = Array(repeating: count, count: nodes)
    }

    func begin() {
        presenter.begin()
        if presenter.isLive { draw() }
    }

    func subscribed(node: Int) {
        presenter.subscribed(node: node)
        changed()
    }

    /// Shows a notification; false once the node has shown its `--count`.
    func show(_ notification: SubscriptionNotification, node: Int) -> Bool {
        let receivedAt = (notification.receivedAt - started).seconds
        let used = presenter.show(notification, node: node, allowance: remaining[node], receivedAt: receivedAt)
        changed()
        guard let left = remaining[node] else { return true }
        remaining[node] = left - used
        return left - used > 0
    }

    func ended(node: Int, notification: SubscriptionNotification) {
        presenter.ended(node: node, notification: notification)
        changed()
    }

    func failed(node: Int, error: any Error) {
        presenter.failed(node: node, error: error)
        changed()
    }

    func finish() {
        redrawPending = false
        presenter.finish()
    }

    // MARK: Live redraws

    private func changed() {
        guard presenter.isLive else { return }
        if let lastDraw, clock.now - lastDraw < Self.redrawInterval {
            guard !redrawPending else { return }
            redrawPending = true
            let wait = Self.redrawInterval - (clock.now - lastDraw)
            Task {
                try? await Task.sleep(for: wait)
                self.drawPending()
            }
        } else {
            draw()
        }
    }

    private func drawPending() {
        guard redrawPending else { return }
        draw()
    }

    /// Redraws now (a terminal resize).
    func draw() {
        redrawPending = false
        lastDraw = clock.now
        presenter.redraw()
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

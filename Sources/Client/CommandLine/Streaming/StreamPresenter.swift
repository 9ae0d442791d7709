import BpfleetShared

/// How a streaming command (`map watch`, `events tail`) shows what its
/// nodes send. `StreamDesk` calls it, one call at a time, in the order
/// things happened; nodes are numbered as given.
protocol StreamPresenter: AnyObject {
    func begin()
    func subscribed(node: Int)
    /// Shows one notification; returns how many of the command's units
    /// (notifications for a watch, records for a tail) it showed: at most
    /// `allowance` when there is one (`--count`).
    func show(_ notification: SubscriptionNotification, node: Int, allowance: Int?, receivedAt: Double) -> Int
    /// The node ended the subscription (`subscription.end`).
    func ended(node: Int, notification: SubscriptionNotification)
    /// The node could not be subscribed, or its connection was lost.
    func failed(node: Int, error: any Error)
    /// Every node is done (or the run was stopped): last output, terminal restored.
    func finish()
    /// A live view redraws on a timer rather than per notification.
    var isLive: Bool { get }
    func redraw()
    /// Puts the terminal back at once (a second Ctrl-C), from any thread.
    var emergencyRestore: (@Sendable () -> Void)? { get }
}

extension StreamPresenter {
    func subscribed(node: Int) {}
    var isLive: Bool { false }
    func redraw() {}
    var emergencyRestore: (@Sendable () -> Void)? { nil }
}

extension SubscriptionNotification {
    /// The `reason` of a `subscription.end`.
    var endReason: String {
        (try? decode(SubscriptionEnd.self).reason) ?? "ended"
    }
}

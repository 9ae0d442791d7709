import BpfleetShared
import NIOCore

/// A `subscription.events` notification taken apart without a tree: each
/// record's JSON text as the node wrote it, and everything lost before them.
struct EventRecords {
    var records: [ByteBuffer]
    /// The node's `lost` plus what this client dropped before it.
    var lost: Int

    init(_ notification: SubscriptionNotification) throws(MalformedRecords) {
        guard let members = NotificationParams.members(notification.params),
              let list = members.first(where: { $0.name == "records" })?.text,
              let records = NotificationParams.elements(list) else {
            throw MalformedRecords()
        }
        self.records = records
        let lost = members.first { $0.name == "lost" }.flatMap { NotificationParams.integer($0.text) } ?? 0
        self.lost = lost + notification.recordsDroppedBefore
    }

    struct MalformedRecords: Error, CustomStringConvertible {
        var description: String { "a subscription.events notification without a \"records\" array" }
    }
}

import BpfleetShared
import Foundation
import NIOCore

/// One notification of a subscription, as the node sent it: its method
/// (`subscription.map`, `subscription.events`, `subscription.end`) and the
/// raw bytes of its params, so output can pass them through untouched and a
/// large map is parsed only by whoever needs it parsed.
public struct SubscriptionNotification: Sendable {
    public var method: String
    public var subscription: Int
    /// The node's per-subscription sequence number, from 1; nil for
    /// `subscription.end`. A gap means intervals were skipped (the node
    /// coalesces for a slow reader, and so does this client).
    public var seq: Int?
    /// The `params` object's JSON text.
    public var params: ByteBuffer
    /// Notifications this client dropped just before this one because its
    /// consumer fell behind. For a delta watch they were merged into this
    /// one instead, so applying every notification in order still
    /// reproduces the map. For events, only when the connection could not
    /// stop reading for the consumer (see `Subscription`).
    public var droppedBefore: Int = 0
    /// For `subscription.events`: the records of the notifications dropped
    /// before this one, and what they reported `lost`. This notification's
    /// own `lost` plus this is everything lost since the previous one the
    /// consumer saw.
    public var recordsDroppedBefore: Int = 0
    /// When this client read it off the connection: with `takenAt`, what a
    /// rate is computed from.
    public var receivedAt: ContinuousClock.Instant

    public init(method: String, subscription: Int, seq: Int?, params: ByteBuffer,
                receivedAt: ContinuousClock.Instant = .now) {
        self.method = method
        self.subscription = subscription
        self.seq = seq
        self.params = params
        self.receivedAt = receivedAt
    }

    /// The last notification of every subscription: the node ended it.
    public var isEnd: Bool { method == SubscriptionEnd.method }

    /// The params decoded as one of the notification types of Shared
    /// (`MapNotification`, `EventsNotification`, `SubscriptionEnd`).
    public func decode<Params: Decodable>(_ type: Params.Type) throws -> Params {
        try JSONDecoder.wire().decode(type, from: Data(params.readableBytesView))
    }
}

extension SubscriptionNotification {
    /// Reads `subscription` and `seq` from the params; nil when the params
    /// name no subscription (then it is not one of ours).
    init?(_ notification: ServerNotification) {
        guard let params = notification.params else { return nil }
        let header: (subscription: Int?, seq: Int?)? = params.withUnsafeReadableBytes { bytes in
            guard let members = try? JSONScanner.members(of: bytes) else { return nil }
            func integer(_ name: String) -> Int? {
                guard let range = members.first(where: { $0.name == name })?.range else { return nil }
                return Int(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return (integer("subscription"), integer("seq"))
        }
        guard let header, let subscription = header.subscription else { return nil }
        self.init(method: notification.method, subscription: subscription, seq: header.seq, params: params)
    }
}

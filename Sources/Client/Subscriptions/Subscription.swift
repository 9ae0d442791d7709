import BpfleetShared
import Foundation
import NIOCore

/// A live subscription on one node (`map.watch`, `events.subscribe`): an
/// asynchronous sequence of its notifications, in the node's order.
///
/// - The last element is the node's `subscription.end` (`isEnd`), after
///   which the sequence finishes.
/// - If the connection ends first, what had arrived is still delivered,
///   then the sequence throws the connection's `ClientError`.
/// - When the consumer stops (its task is cancelled while waiting, or every
///   copy of the subscription and its iterator is gone), the node is told
///   with a `subscription.cancel` notification. `cancel()` does the same and
///   waits for the node's answer.
///
/// One task consumes it. What a consumer that falls behind gets depends on
/// the subscription:
///
/// - `events.subscribe`: once `bufferLimit` notifications wait, the
///   connection stops reading until the consumer takes one, so the node's
///   bounded queue absorbs the burst and counts what it cannot hold in
///   `lost`; this client drops nothing. The exceptions, so that nothing
///   waits for good: while a call on the connection waits for its answer,
///   or another subscription's consumer on it waits for its next
///   notification, the connection reads on and holds up to `byteLimit`
///   bytes of notifications, past which the oldest go, counted in
///   `recordsDroppedBefore`. Give a subscription that must lose nothing a
///   connection of its own, or consume every subscription of a connection
///   from its own task promptly.
/// - `map.watch`: `bufferLimit` notifications are held and the oldest go
///   past that (a delta merged into the next), as the node itself
///   coalesces: a watcher wants the newest state, and a held connection
///   would only hand it older ones.
///
/// See `SubscriptionNotification` for what the consumer is told of drops.
public struct Subscription: AsyncSequence, Sendable {
    public typealias Element = SubscriptionNotification

    /// Notifications held for a consumer that has not caught up: for
    /// events, before the connection stops reading; for a map watch, before
    /// the oldest goes.
    public static let defaultBufferLimit = 16

    /// The most params bytes an events subscription holds when its
    /// connection cannot stop reading for it: about a node's whole queue
    /// (65,536 records) of typed records.
    public static let defaultByteLimit = 16 << 20

    /// The node's id for it (the `subscription` of its notifications).
    public let id: Int
    /// The node it is on.
    public var node: NodeAddress { handle.connection.address }
    private let handle: Handle

    init(id: Int, connection: NodeConnection, buffer: SubscriptionBuffer) {
        self.id = id
        self.handle = Handle(id: id, connection: connection, buffer: buffer)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let handle: Handle

        public mutating func next() async throws -> SubscriptionNotification? {
            try await handle.buffer.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(handle: handle)
    }

    /// Stops the subscription: the consumer's iteration ends, and the node
    /// is asked with `subscription.cancel` (and answered) unless it had
    /// already ended it or the connection is gone. Throws only an error the
    /// node answered the cancel with (other than "not found": a node that
    /// ended the subscription as the cancel went out).
    public func cancel() async throws {
        if interrupt() { try await requestCancel() }
    }

    /// The first half of `cancel()`, for a caller that must end the
    /// iteration now and ask the node from another task: true when the node
    /// still holds the subscription and must be asked.
    func interrupt() -> Bool {
        guard let id = handle.buffer.stop() else { return false }
        handle.connection.subscriptions.retire(id)
        return true
    }

    /// The second half of `cancel()`: asks the node and waits for its answer.
    func requestCancel() async throws {
        do {
            _ = try await handle.connection.call(SubscriptionCancel(subscription: id))
        } catch is ClientError {
            // The connection is gone, and the subscription with it.
        } catch let error as ResponseError where error.code == .notFound {
            // The node ended it as the cancel went out: gone either way.
        }
    }

    /// Whether notifications may still come (the node has not ended it, the
    /// connection stands, nobody cancelled it).
    public var isOpen: Bool { handle.buffer.isOpen }

    /// Shared by every copy and iterator; when the last goes, the consumer
    /// has gone and the node is told.
    fileprivate final class Handle: Sendable {
        let id: Int
        let connection: NodeConnection
        let buffer: SubscriptionBuffer

        init(id: Int, connection: NodeConnection, buffer: SubscriptionBuffer) {
            self.id = id
            self.connection = connection
            self.buffer = buffer
        }

        deinit {
            buffer.consumerStopped()
        }
    }
}

extension NodeConnection {
    /// Opens a subscription: sends `request` (`MapWatch`, `EventsSubscribe`)
    /// and returns once the node has answered with the subscription's id.
    /// Its notifications are routed to the returned sequence from the
    /// moment the answer arrives, so none can be missed.
    ///
    /// A server error is thrown as its `ResponseError`. If the caller stops
    /// waiting before the answer, a subscription the node opens anyway is
    /// cancelled when the answer comes.
    public nonisolated func subscribe<Method: RPCMethod>(
        _ request: Method,
        bufferLimit: Int = Subscription.defaultBufferLimit,
        byteLimit: Int = Subscription.defaultByteLimit
    ) async throws -> Subscription where Method.Result == MapWatch.Result {
        let table = subscriptions
        // Every record of an event stream counts; a watch wants the newest.
        let flow: SubscriptionBuffer.Flow = Method.method == EventsSubscribe.method ? .holdReader(byteLimit: byteLimit) : .coalesce
        let buffer = SubscriptionBuffer(limit: bufferLimit, flow: flow, onFlowChange: { [weak table] in
            table?.flowChanged()
        }) { [weak self] id in
            self?.subscriptions.retire(id)
            self?.notifyCancel(id)
        }
        let result: ByteBuffer
        do {
            result = try await send(method: Method.method, params: JSONEncoder.wire().encode(request)) { [weak self] result in
                guard let id = Self.subscriptionID(in: result) else { return }
                if !table.register(id: id, buffer) { self?.notifyCancel(id) }
            }
        } catch {
            buffer.consumerStopped()
            throw error
        }
        do {
            let answer = try ResultDecoding.decode(Method.Result.self, from: result, method: Method.method, address: address)
            return Subscription(id: answer.subscription, connection: self, buffer: buffer)
        } catch {
            buffer.consumerStopped()
            throw error
        }
    }

    /// Tells the node to cancel a subscription, without waiting: sent as a
    /// JSON-RPC notification, which the node runs and never answers.
    nonisolated func notifyCancel(_ id: Int) {
        guard let params = try? JSONEncoder.wire().encode(SubscriptionCancel(subscription: id)) else { return }
        notify(method: SubscriptionCancel.method, params: params)
    }

    private static func subscriptionID(in result: ByteBuffer) -> Int? {
        guard let members = NotificationParams.members(result),
              let text = members.first(where: { $0.name == "subscription" })?.text else { return nil }
        return NotificationParams.integer(text)
    }
}

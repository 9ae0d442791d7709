import BpfleetShared
import NIOCore
import NIOSSL

/// Matches responses to waiting calls by id, hands notifications to their
/// subscription (or else to the connection's hook), and fails every waiting
/// call and every subscription when the connection ends. All of its state
/// lives on the channel's event loop.
///
/// It also decides when the connection reads: a `read()` is left
/// unforwarded while an events subscription's consumer is behind (see
/// `SubscriptionTable.holdReader`), so the node's bounded queue, not this
/// client, absorbs the burst, except while a call waits for its answer,
/// which may lie behind the notifications.
final class ResponseRouter: ChannelDuplexHandler {
    typealias InboundIn = LineFrame
    typealias OutboundIn = OutgoingCall
    typealias OutboundOut = ByteBuffer

    private let address: NodeAddress
    private let maximumLength: Int
    private let onNotification: (@Sendable (ServerNotification) -> Void)?
    private let subscriptions: SubscriptionTable
    /// Why the connection ended, for callers that come after it did.
    private let ending: LockedValue<ClientError?>
    /// Says what a TLS error means (the TLS session's words), nil for others.
    private let explain: (@Sendable (any Error) -> ClientError?)?
    /// What to say when the node closes the connection without having sent
    /// a single line (a TLS listener does that to plain TCP).
    private let silentCloseReason: String?
    private var heardFrom = false
    private var pending: [Int64: PendingCall] = [:]
    /// Calls whose caller stopped waiting but whose result must still be
    /// seen when it comes (a subscription to cancel).
    private var abandoned: [Int64: @Sendable (ByteBuffer) -> Void] = [:]
    /// Why the connection ended; set once, then every new call fails with it.
    private var failure: ClientError?
    /// An error the node sent before this client asked anything (it refuses
    /// a peer with no role at connect, then closes): every call gets it,
    /// here, or from `refused` once the channel is closed.
    private var refusal: ResponseError?
    private let refused: LockedValue<ResponseError?>
    private var asked = false

    init(address: NodeAddress, maximumLength: Int, ending: LockedValue<ClientError?> = LockedValue(nil),
         refused: LockedValue<ResponseError?> = LockedValue(nil),
         explain: (@Sendable (any Error) -> ClientError?)? = nil,
         silentCloseReason: String? = nil,
         subscriptions: SubscriptionTable = SubscriptionTable(),
         onNotification: (@Sendable (ServerNotification) -> Void)?) {
        self.address = address
        self.maximumLength = maximumLength
        self.ending = ending
        self.refused = refused
        self.explain = explain
        self.silentCloseReason = silentCloseReason
        self.onNotification = onNotification
        self.subscriptions = subscriptions
    }

    // MARK: Reading

    func handlerAdded(context: ChannelHandlerContext) {
        // Any thread may wake a held reader: the read comes back through
        // `read(context:)`, which decides again.
        subscriptions.setWakeReader { [weak channel = context.channel] in channel?.read() }
    }

    func read(context: ChannelHandlerContext) {
        if pending.isEmpty && subscriptions.holdReader() { return }
        context.read()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        // Succeeding the caller's write promise hands the reply promise over
        // to this router; from here on only the router completes it.
        promise?.succeed(())
        guard let reply = call.reply else {
            // A notification: nothing waits for it, and on a closed
            // connection there is no one to tell.
            if failure == nil { context.write(wrapOutboundOut(call.frame), promise: nil) }
            return
        }
        if let refusal {
            reply.succeed(.error(refusal))
            return
        }
        if let failure {
            reply.fail(failure)
            return
        }
        asked = true
        pending[call.id] = PendingCall(method: call.method, reply: reply, onResult: call.onResult)
        // Its answer must not wait behind notifications nobody is reading.
        if subscriptions.releaseReader() { context.read() }
        let id = call.id
        context.write(wrapOutboundOut(call.frame)).assumeIsolated().whenFailure { [self] error in
            fail(id: id, with: ClientError.connectionClosed(address, reason: "\(error)"))
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let abandon = event as? AbandonCall else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        fail(id: abandon.id, with: CancellationError())
        promise?.succeed(())
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heardFrom = true
        switch unwrapInboundIn(data) {
        case .oversized(let bytes):
            // Whose answer it was cannot be known without reading it, so
            // no waiting call can be told; the connection is unusable.
            end(context: context, ClientError.responseTooLarge(address, bytes: bytes, limit: maximumLength))
        case .line(let line):
            let message: InboundMessage
            do {
                message = try InboundMessage.parse(line)
            } catch {
                end(context: context, ClientError.malformedMessage(address, detail: error.detail))
                return
            }
            if WireLog.isOn { record(message, line) }
            route(message)
        }
    }

    /// The line, for the suite's check against the contract.
    private func record(_ message: InboundMessage, _ line: ByteBuffer) {
        switch message {
        case .response(let id, _): WireLog.record(method: pending[id]?.method, line: line.readableBytesView)
        case .unattributedError: WireLog.record(method: nil, line: line.readableBytesView)
        case .notification: WireLog.record(method: nil, line: line.readableBytesView, notification: true)
        case .ignored: break
        }
    }

    private func route(_ message: InboundMessage) {
        switch message {
        case .response(let id, let reply):
            if let call = pending.removeValue(forKey: id) {
                if case .result(let result) = reply { call.onResult?(result) }
                call.reply.succeed(reply)
            } else if let onResult = abandoned.removeValue(forKey: id) {
                if case .result(let result) = reply { onResult(result) }
            }
            // Any other id belongs to an abandoned call: dropped.
        case .unattributedError(let error) where !asked && pending.isEmpty:
            refusal = error
            refused.setIfNil(error)
        case .unattributedError(let error):
            // The server could not tell which request it answers; every
            // waiting call may be the one, and none would ever hear back.
            let waiting = pending
            pending.removeAll()
            for call in waiting.values { call.reply.succeed(.error(error)) }
        case .notification(let notification):
            if !subscriptions.deliver(notification) {
                onNotification?(notification)
            }
        case .ignored:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let reason = heardFrom || pending.isEmpty ? nil : silentCloseReason
        failAll(failure ?? ClientError.connectionClosed(address, reason: reason))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // With TLS 1.3 a node refuses our certificate after our side of the
        // handshake is done: its alert arrives here, with the first answer.
        end(context: context, explain?(error) ?? ClientError.connectionClosed(address, reason: Self.reason(error)))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        subscriptions.setWakeReader(nil)
        failAll(failure ?? ClientError.connectionClosed(address, reason: nil))
    }

    // MARK: Failing

    private func end(context: ChannelHandlerContext, _ error: ClientError) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: ClientError) {
        if failure == nil {
            failure = error
            ending.setIfNil(error)
        }
        let waiting = pending
        pending.removeAll()
        abandoned.removeAll()
        for call in waiting.values { call.reply.fail(error) }
        subscriptions.failAll(failure ?? error)
    }

    private func fail(id: Int64, with error: Error) {
        guard let call = pending.removeValue(forKey: id) else { return }
        if let onResult = call.onResult, error is CancellationError { abandoned[id] = onResult }
        call.reply.fail(error)
    }

    private struct PendingCall {
        var method: String
        var reply: EventLoopPromise<CallReply>
        var onResult: (@Sendable (ByteBuffer) -> Void)?
    }

    static func reason(_ error: Error) -> String {
        if let error = error as? IOError { return ErrnoText.describe(error.errnoCode) }
        if case NIOSSLError.uncleanShutdown = error { return "the node closed it without ending TLS" }
        return "\(error)"
    }
}

import BpfleetShared
import NIOCore
import NIOSSL
// NIOSSL's handshake event comes from NIOTLS (a module of swift-nio).
import NIOTLS

/// Completes `handshake` once TLS is up, or fails it with whatever ended the
/// connection first, so that a refused handshake fails the connect rather
/// than the first call. Bounded by `timeout`: a listener that accepts and
/// never answers does not hold the client.
final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let handshake: EventLoopPromise<Void>
    private let address: NodeAddress
    private let timeout: Duration
    private var deadline: Scheduled<Void>?
    private var done = false

    init(handshake: EventLoopPromise<Void>, address: NodeAddress, timeout: Duration) {
        self.handshake = handshake
        self.address = address
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.value.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            finish(.failure(ClientError.timedOut(address, after: timeout)))
            context.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        finish(.failure(ClientError.connectionClosed(address, reason: nil)))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            finish(.success(()))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ClientError.connectionClosed(address, reason: "during the TLS handshake")))
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !done else { return }
        done = true
        deadline?.cancel()
        handshake.completeWith(result)
    }
}

import NIOCore
import NIOSSL
import NIOTLS

/// Closes a TLS connection whose handshake is not done in time, and tells
/// the connection's task when it is (the peer's certificate is known then).
final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    let completed: EventLoopPromise<Void>

    init(timeout: TimeAmount, eventLoop: any EventLoop) {
        self.timeout = timeout
        self.completed = eventLoop.makePromise()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent {
            deadline?.cancel()
            completed.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        completed.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        completed.fail(ChannelError.ioOnClosedChannel)
    }
}

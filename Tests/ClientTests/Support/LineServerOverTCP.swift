import Foundation
import NIOCore
import NIOPosix

/// A plain TCP listener on 127.0.0.1 that answers any bytes with a JSON-RPC
/// error line, as a plaintext bpfleetd answers a line it cannot parse.
enum LineServerOverTCP {
    static func with<Value>(_ body: (Int) async throws -> Value) async throws -> Value {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ParseErrorPeer())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        do {
            let value = try await body(channel.localAddress!.port!)
            try? await channel.close()
            return value
        } catch {
            try? await channel.close()
            throw error
        }
    }
}

private final class ParseErrorPeer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"# + "\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
    }
}

import BpfleetShared
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A TLS 1.3 JSON-RPC peer on 127.0.0.1 that requires a client certificate
/// chaining to its client CA, as bpfleetd does: `node.info` answers, and
/// `probe.load` is refused with -32002 the way a viewer is refused.
final class TLSLineServer: Sendable {
    let port: Int
    private let channel: any Channel

    private init(port: Int, channel: any Channel) {
        self.port = port
        self.channel = channel
    }

    static func start(certificate: String, key: String, clientCA: String) async throws -> TLSLineServer {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: 1 << 20)))
                    try child.pipeline.syncOperations.addHandler(RoleCheckingPeer())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TLSLineServer(port: channel.localAddress!.port!, channel: channel)
    }

    static func with<Value>(certificate: String, key: String, clientCA: String,
                            _ body: (TLSLineServer) async throws -> Value) async throws -> Value {
        let server = try await start(certificate: certificate, key: key, clientCA: clientCA)
        do {
            let value = try await body(server)
            try? await server.channel.close()
            return value
        } catch {
            try? await server.channel.close()
            throw error
        }
    }
}

private final class RoleCheckingPeer: ChannelInboundHandler {
    typealias InboundIn = LineFrame
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .line(let line) = unwrapInboundIn(data) else { return }
        let bytes = Array(line.readableBytesView)
        let members = try! bytes.withUnsafeBytes { try JSONScanner.members(of: $0) }
        func member(_ name: String) -> String? {
            guard let range = members.first(where: { $0.name == name })?.range else { return nil }
            return String(decoding: bytes[range], as: UTF8.self)
        }
        let id = member("id") ?? "null"
        let method = try! JSONDecoder().decode(String.self, from: Data(member("method")!.utf8))
        let reply: String
        switch method {
        case "node.info":
            reply = #"{"jsonrpc":"2.0","id":\#(id),"result":{"hostname":"web-1"}}"#
        default:
            reply = #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32002,"message":"permission denied: \#(method) needs operator (you are viewer)","data":{"method":"\#(method)","needs":"operator","role":"viewer"}}}"#
        }
        var buffer = context.channel.allocator.buffer(capacity: reply.utf8.count + 1)
        buffer.writeString(reply + "\n")
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}

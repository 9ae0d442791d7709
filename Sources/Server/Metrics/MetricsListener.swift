import BpfleetShared
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// `--metrics-listen tcp://HOST:PORT`: HTTP/1.1 serving `GET /metrics`
/// (docs/metrics.md). On loopback, plaintext for anyone on the node; on
/// any other address, TLS with the node's certificate and a client
/// certificate from the client CA (mutual TLS: no certificate, or one from
/// another CA, fails the handshake), whose holder must have a role (viewer
/// or operator) in the roles file: one without gets 403.
///
/// What a client can hold is bounded: `maxConnections` connections at once,
/// every request (head, and the response written) within `timeout` seconds
/// of the connection opening or the previous response, request heads at
/// NIOHTTP1's limit (80 KiB, else 400), request bodies at `maxBodyBytes`
/// (else the connection is closed), and one request at a time.
struct MetricsListener: Sendable {
    let host: String
    let port: Int
    let tls: NIOSSLContext?
    let roles: RoleBook
    let context: CallContext
    let metrics: ServerMetrics
    let timeout: TimeAmount
    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    let connections = OpenConnections()
    let open = NIOLockedValueBox(0)

    static let maxConnections = 64
    static let maxBodyBytes = 64 << 10

    func bind() async throws -> any Channel {
        let listener = self
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let admitted = listener.open.withLockedValue { open in
                        guard open < Self.maxConnections else { return false }
                        open += 1
                        return true
                    }
                    guard admitted else {
                        channel.close(promise: nil)
                        return
                    }
                    if !listener.connections.insert(channel) { channel.close(promise: nil) }
                    channel.closeFuture.whenComplete { _ in
                        listener.connections.remove(channel)
                        listener.open.withLockedValue { $0 -= 1 }
                    }
                    let operations = channel.pipeline.syncOperations
                    if let tls = listener.tls {
                        try operations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try operations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try operations.addHandler(MetricsHTTPHandler(listener: listener))
                }
            }
        do {
            return try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw StartupError("cannot listen for metrics on tcp://\(host):\(port): \(error)")
        }
    }
}

/// One metrics connection: answers each request, and closes the
/// connection when a request (or its response) takes longer than the
/// listener's timeout.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let listener: MetricsListener
    private var deadline: Scheduled<Void>?
    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    init(listener: MetricsListener) {
        self.listener = listener
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    /// The next request must be in, and answered, within the timeout.
    private func arm(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: listener.timeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
            bodyBytes = 0
        case .body(let bytes):
            bodyBytes += bytes.readableBytes
            if bodyBytes > MetricsListener.maxBodyBytes {
                context.close(promise: nil)
            }
        case .end:
            guard let request = head else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/metrics" else {
            return send(.notFound, "not found: the metrics are at /metrics\n", request: request, context: context)
        }
        guard request.method == .GET else {
            return send(.methodNotAllowed, "method not allowed: GET /metrics\n", extra: [("Allow", "GET")], request: request, context: context)
        }
        if listener.tls != nil {
            let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
            let identity = certificate.flatMap { try? TLSSetup.identity(of: $0) }
            guard let identity, listener.roles.role(of: identity) != nil else {
                listener.logger.notice("metrics scrape refused: no role", metadata: ["peer": "\(identity.map(\.description) ?? "?")"])
                return send(.forbidden, "forbidden: this client certificate has no role on this node\n", request: request, context: context, close: true)
            }
        }
        let openMetrics = ServerMetrics.wantsOpenMetrics(request.headers.first(name: "accept"))
        let rendering = context.eventLoop.makePromise(of: String.self)
        let callContext = listener.context
        let metrics = listener.metrics
        rendering.completeWithTask { await callContext.renderMetrics(metrics) }
        rendering.futureResult.assumeIsolated().whenSuccess { text in
            let body = openMetrics ? ServerMetrics.openMetrics(text) : text
            let type = openMetrics ? ServerMetrics.openMetricsContentType : ServerMetrics.textContentType
            self.send(.ok, body, contentType: type, request: request, context: context)
        }
    }

    private func send(_ status: HTTPResponseStatus, _ body: String, contentType: String = "text/plain; charset=utf-8",
                      extra: [(String, String)] = [], request: HTTPRequestHead, context: ChannelHandlerContext, close: Bool = false) {
        guard context.channel.isActive else { return }
        let keepAlive = request.isKeepAlive && !close
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.utf8.count))] + extra)
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        var response = HTTPResponseHead(version: request.version, status: status, headers: headers)
        response.headers = headers
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { result in
            if keepAlive, case .success = result {
                self.arm(context)
            } else {
                context.close(promise: nil)
            }
        }
    }
}

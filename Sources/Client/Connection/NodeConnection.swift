import BpfleetShared
import Foundation
import NIOCore
import NIOPosix

/// One connection to one node's bpfleetd. Requests carry increasing ids and
/// responses are routed back by id, so several calls can be in flight at
/// once. A connection that drops fails every waiting call.
public actor NodeConnection {
    public nonisolated let address: NodeAddress
    private nonisolated let channel: any Channel
    private var lastRequestID: Int64 = 0

    /// 1 GiB: a million-entry map snapshot arrives as one ~40 MB line, and
    /// the client would rather read a big answer than refuse it.
    public static let defaultMaximumMessageLength = 1 << 30

    private init(address: NodeAddress, channel: any Channel) {
        self.address = address
        self.channel = channel
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Connects to a node. `onNotification` receives messages the server
    /// sends unasked, in order, on the connection's event loop: it must not
    /// block.
    public static func connect(
        to address: NodeAddress,
        timeout: Duration,
        maximumMessageLength: Int = defaultMaximumMessageLength,
        onNotification: (@Sendable (ServerNotification) -> Void)? = nil
    ) async throws -> NodeConnection {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(TimeAmount(timeout))
            // Large reads: snapshots are tens of megabytes.
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 << 10, maximum: 1 << 20))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineFrameDecoder(maximumLength: maximumMessageLength)))
                    try channel.pipeline.syncOperations.addHandler(
                        ResponseRouter(address: address, maximumLength: maximumMessageLength, onNotification: onNotification))
                }
            }
        do {
            let channel: any Channel
            switch address {
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .tcp(let host, let port):
                // The server speaks plain TCP only on loopback, and only when
                // asked to; anywhere else it is TLS, which comes later.
                guard isLoopback(host) else {
                    throw ClientError.unsupported(address, detail: "TLS is not supported by this client yet; plain TCP reaches only a loopback listener")
                }
                channel = try await bootstrap.connect(host: host, port: port).get()
            }
            return NodeConnection(address: address, channel: channel)
        } catch {
            throw ConnectFailure.describe(error, address: address, timeout: timeout)
        }
    }

    /// Connects, runs `body`, and closes the connection whatever happens.
    public static func withConnection<Value>(
        to address: NodeAddress,
        timeout: Duration,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (NodeConnection) async throws -> Value
    ) async throws -> Value {
        let connection = try await connect(to: address, timeout: timeout)
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Calls a method and decodes its result; a server error is thrown as
    /// the `ResponseError` it sent.
    public nonisolated func call<Method: RPCMethod>(_ request: Method) async throws -> Method.Result {
        let result = try await callRaw(request)
        return try ResultDecoding.decode(Method.Result.self, from: result, method: Method.method, address: address)
    }

    /// Calls a method and returns the raw bytes of its `result` value,
    /// untouched, for output that passes them through.
    public nonisolated func callRaw<Method: RPCMethod>(_ request: Method) async throws -> ByteBuffer {
        try await send(method: Method.method, params: JSONEncoder.wire().encode(request))
    }

    /// Calls any method by name; `params` must be an object or an array
    /// when present.
    public nonisolated func callRaw(method: String, params: JSONValue?) async throws -> ByteBuffer {
        try await send(method: method, params: params.map { try JSONEncoder.wire().encode($0) })
    }

    public nonisolated func close() async {
        // Closing twice, or after the node went away, is not an error.
        try? await channel.close()
    }

    private func takeRequestID() -> Int64 {
        lastRequestID += 1
        return lastRequestID
    }

    private nonisolated func send(method: String, params: Data?) async throws -> ByteBuffer {
        try Task.checkCancellation()
        let id = await takeRequestID()
        let channel = self.channel
        let address = self.address
        let frame = RequestFrame.encode(id: id, method: method, params: params, allocator: channel.allocator)
        let reply = channel.eventLoop.makePromise(of: CallReply.self)
        let answer = try await withTaskCancellationHandler {
            do {
                try await channel.writeAndFlush(OutgoingCall(id: id, frame: frame, reply: reply))
            } catch {
                // The router never took the call (the channel had closed),
                // so the reply promise is still this caller's to complete.
                let failure = ClientError.connectionClosed(address, reason: nil)
                reply.fail(failure)
                throw failure
            }
            // A cancellation racing the write may have sent its abandon
            // ahead of the call; send it again behind.
            if Task.isCancelled {
                channel.triggerUserOutboundEvent(AbandonCall(id: id), promise: nil)
            }
            return try await reply.futureResult.get()
        } onCancel: {
            channel.triggerUserOutboundEvent(AbandonCall(id: id), promise: nil)
        }
        switch answer {
        case .result(let result): return result
        case .error(let error): throw error
        }
    }

    private static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

import BpfleetShared
import Foundation
import NIOCore
import NIOPosix

/// One connection to one node's bpfleetd. Requests carry increasing ids and
/// responses are routed back by id, so several calls can be in flight at
/// once. A connection that drops fails every waiting call.
public actor NodeConnection {
    public nonisolated let address: NodeAddress
    /// The node as people know it: its config name, else its address.
    public nonisolated let nodeName: String
    private nonisolated let channel: any Channel
    /// Why the connection ended, once it has: a call made afterwards fails
    /// with the reason (a node's TLS alert), not a bare "closed".
    private nonisolated let ending: LockedValue<ClientError?>
    /// The error a node sent before this client asked anything (a peer
    /// with no role is refused at connect): every call gets it, even one
    /// made after the node closed the connection.
    private nonisolated let refused: LockedValue<ResponseError?>
    /// The open subscriptions, by id; the router hands them their
    /// notifications on the event loop.
    nonisolated let subscriptions: SubscriptionTable
    private var lastRequestID: Int64 = 0

    /// 1 GiB: a million-entry map snapshot arrives as one ~40 MB line, and
    /// the client would rather read a big answer than refuse it.
    public static let defaultMaximumMessageLength = 1 << 30

    private init(address: NodeAddress, nodeName: String, channel: any Channel, ending: LockedValue<ClientError?>,
                 refused: LockedValue<ResponseError?>, subscriptions: SubscriptionTable) {
        self.address = address
        self.nodeName = nodeName
        self.channel = channel
        self.ending = ending
        self.refused = refused
        self.subscriptions = subscriptions
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Connects to a node. `onNotification` receives messages the server
    /// sends unasked, in order, on the connection's event loop: it must not
    /// block. Notifications of a subscription opened with `subscribe` go to
    /// that subscription instead.
    public static func connect(
        to address: NodeAddress,
        timeout: Duration,
        maximumMessageLength: Int = defaultMaximumMessageLength,
        onNotification: (@Sendable (ServerNotification) -> Void)? = nil
    ) async throws -> NodeConnection {
        try await connect(to: NodeTarget(address: address), timeout: timeout,
                          maximumMessageLength: maximumMessageLength, onNotification: onNotification)
    }

    /// Connects to a node; a tcp:// node over TLS (the handshake finished,
    /// the node's certificate checked) or, when its target says so and it is
    /// on loopback, plain TCP. One attempt: `FanOut.connect` retries.
    public static func connect(
        to target: NodeTarget,
        timeout: Duration,
        maximumMessageLength: Int = defaultMaximumMessageLength,
        onNotification: (@Sendable (ServerNotification) -> Void)? = nil
    ) async throws -> NodeConnection {
        do {
            return try await attempt(to: target, timeout: timeout, maximumMessageLength: maximumMessageLength,
                                     onNotification: onNotification)
        } catch let failure as ConnectAttemptFailure {
            throw failure.error
        }
    }

    /// One attempt at connecting; a failure to connect is thrown as a
    /// `ConnectAttemptFailure`, which says whether to try again.
    static func attempt(
        to target: NodeTarget,
        timeout: Duration,
        maximumMessageLength: Int = defaultMaximumMessageLength,
        onNotification: (@Sendable (ServerNotification) -> Void)? = nil
    ) async throws -> NodeConnection {
        let address = target.address
        let session: TLSSession?
        do {
            session = try tlsSession(for: target)
        } catch let error as ClientError {
            throw ConnectAttemptFailure(error: error, isTransient: false)
        }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let handshake = session.map { _ in loop.makePromise(of: Void.self) }
        let ending = LockedValue<ClientError?>(nil)
        let refused = LockedValue<ResponseError?>(nil)
        let subscriptions = SubscriptionTable()
        let explain: (@Sendable (any Error) -> ClientError?)?
        if let session {
            explain = { session.explain($0) }
        } else {
            explain = nil
        }
        let silentCloseReason: String? = if case .tcp = address, session == nil {
            "before any answer (if the node's listener uses TLS, give --ca, --cert and --key instead of --insecure-plaintext)"
        } else {
            nil
        }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(timeout))
            // Large reads: snapshots are tens of megabytes.
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 << 10, maximum: 1 << 20))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let session, let handshake {
                        try pipeline.addHandler(session.makeHandler())
                        try pipeline.addHandler(HandshakeWaiter(handshake: handshake, address: address, timeout: timeout))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: maximumMessageLength)))
                    let router = ResponseRouter(address: address, maximumLength: maximumMessageLength, ending: ending,
                                                refused: refused, explain: explain, silentCloseReason: silentCloseReason,
                                                subscriptions: subscriptions, onNotification: onNotification)
                    try pipeline.addHandler(router)
                }
            }
        var connected: (any Channel)?
        do {
            let channel: any Channel
            switch address {
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .tcp(let host, let port):
                channel = try await bootstrap.connect(host: host, port: port).get()
            }
            connected = channel
            if let handshake {
                try await withTaskCancellationHandler {
                    try await handshake.futureResult.get()
                } onCancel: {
                    channel.close(promise: nil)
                }
            }
            return NodeConnection(address: address, nodeName: target.description, channel: channel, ending: ending, refused: refused,
                                  subscriptions: subscriptions)
        } catch {
            connected?.close(promise: nil)
            handshake?.fail(error)
            let described = session?.explain(error) ?? ConnectFailure.describe(error, address: address, timeout: timeout)
            // A TLS refusal is never transient, whatever error carried it.
            if case .tls = described { throw ConnectAttemptFailure(error: described, isTransient: false) }
            throw ConnectAttemptFailure(error: described, isTransient: ConnectFailure.isTransient(error))
        }
    }

    /// The TLS session a tcp:// target needs, nil for plain connections;
    /// throws for a tcp:// target that has neither TLS nor leave to go
    /// without it.
    private static func tlsSession(for target: NodeTarget) throws -> TLSSession? {
        guard case .tcp(let host, _) = target.address else { return nil }
        switch target.security {
        case .tls(let credentials, let serverName):
            return TLSSession(node: target.description, address: target.address, host: host,
                              credentials: credentials, serverName: serverName)
        case .insecurePlaintext:
            guard target.address.isLoopback else {
                throw ClientError.unsupported(target.address, detail: "plain TCP reaches only a loopback address; use TLS (--ca, --cert, --key)")
            }
            return nil
        case nil:
            throw ClientError.unsupported(target.address, detail: "a tcp:// node needs TLS credentials (--ca, --cert, --key), or --insecure-plaintext for a loopback address")
        }
    }

    /// Connects, runs `body`, and closes the connection whatever happens.
    public static func withConnection<Value>(
        to address: NodeAddress,
        timeout: Duration,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (NodeConnection) async throws -> Value
    ) async throws -> Value {
        try await withConnection(to: NodeTarget(address: address), timeout: timeout, body)
    }

    /// Connects (one attempt), runs `body`, and closes the connection
    /// whatever happens. `FanOut.call` also retries a transient failure to
    /// connect and bounds the call.
    public static func withConnection<Value>(
        to target: NodeTarget,
        timeout: Duration,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (NodeConnection) async throws -> Value
    ) async throws -> Value {
        let connection = try await connect(to: target, timeout: timeout)
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

    /// Whether the connection is still open (the node may close it).
    nonisolated var isOpen: Bool { channel.isActive }

    public nonisolated func close() async {
        // Closing twice, or after the node went away, is not an error.
        try? await channel.close()
    }

    private func takeRequestID() -> Int64 {
        lastRequestID += 1
        return lastRequestID
    }

    /// Sends a request and waits for its result. `onResult` sees the raw
    /// result on the event loop first (see `OutgoingCall.onResult`).
    nonisolated func send(method: String, params: Data?,
                          onResult: (@Sendable (ByteBuffer) -> Void)? = nil) async throws -> ByteBuffer {
        try Task.checkCancellation()
        let id = await takeRequestID()
        let channel = self.channel
        let address = self.address
        let ending = self.ending
        let refused = self.refused
        let frame = RequestFrame.encode(id: id, method: method, params: params, allocator: channel.allocator)
        let reply = channel.eventLoop.makePromise(of: CallReply.self)
        let answer = try await withTaskCancellationHandler {
            do {
                try await channel.writeAndFlush(OutgoingCall(id: id, method: method, frame: frame, reply: reply, onResult: onResult))
            } catch {
                // The router never took the call (the channel had closed),
                // so the reply promise is still this caller's to complete.
                if let refusal = refused.value {
                    reply.fail(refusal)
                    throw refusal
                }
                let failure = ending.value ?? ClientError.connectionClosed(address, reason: nil)
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
        case .error(let error) where error.code == .methodNotFound && method != NodeInfo.method:
            throw await missingMethod(method, error)
        case .error(let error): throw error
        }
    }

    /// A -32601 said the way an operator can act on: which bpfleetd the
    /// node runs (asked with `node.info`, which every version serves).
    private nonisolated func missingMethod(_ method: String, _ error: ResponseError) async -> ResponseError {
        guard let info = try? await call(NodeInfo()) else { return error }
        return ResponseError(.methodNotFound, "node \(nodeName) runs bpfleetd \(info.serverVersion), which has no method \(method)", data: error.data)
    }

    /// Sends a JSON-RPC notification: the server runs it and never answers,
    /// so this neither waits nor fails. Used where nobody could wait for an
    /// answer (a subscription whose consumer went away).
    nonisolated func notify(method: String, params: Data?) {
        let frame = RequestFrame.encode(id: nil, method: method, params: params, allocator: channel.allocator)
        channel.writeAndFlush(OutgoingCall(notification: frame), promise: nil)
    }
}

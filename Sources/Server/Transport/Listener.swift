import BpfleetShared
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Accepts connections on one address and serves each until it closes:
/// identifies the peer (SO_PEERCRED, or the verified client certificate),
/// holds it to the connection limits, and hands its requests to the
/// dispatcher. One connection's failure never reaches another.
struct Listener: Sendable {
    let address: NodeAddress
    let configuration: Configuration
    let dispatcher: Dispatcher
    let group: MultiThreadedEventLoopGroup
    let tls: NIOSSLContext?
    let budget: ConnectionBudget
    let logger: Logger
    /// Open connections, so that a shutdown can end them.
    let connections = OpenConnections()
    /// Peers with no role, refused at connect (logged at a bounded rate).
    let strangers = StrangerLog()

    /// Inbound lines only: replies are written to the channel directly
    /// (`ConnectionWriter`), each awaited until it is on the wire.
    typealias Connection = NIOAsyncChannel<LineFrame, Never>

    /// The listening channel, and for a Unix socket the file it made,
    /// which only this listener may remove.
    func bind() async throws -> (NIOAsyncChannel<Connection, Never>, UnixSocketFile?) {
        let maximumLength = configuration.maxMessageBytes
        let tls = self.tls
        let handshakeTimeout = TimeAmount.nanoseconds(Int64(configuration.handshakeTimeout * 1e9))
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            // A restarted bpfleetd binds its port while old connections linger in TIME_WAIT.
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // `nc -U` and `socat` shut their sending side after the last
            // request and still wait for the replies.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(HandshakeDeadline(timeout: handshakeTimeout, eventLoop: channel.eventLoop))
                }
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(LineFrameDecoder(maximumLength: maximumLength)))
                // Few lines wait unread: a connection's requests beyond them
                // stay in the client's socket (each line is at most
                // maxMessageBytes, so this bounds what a connection holds).
                return try Connection(wrappingChannelSynchronously: channel, configuration: .init(
                    backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2)))
            }
        }
        switch address {
        case .unix(let path):
            try makeDirectories((path as NSString).deletingLastPathComponent, mode: 0o755)
            // Bound here, not by NIO: NIO's Unix listeners remove whatever
            // file is at their path when they close (and, asked to, before
            // they bind), even the socket of another bpfleetd.
            let group = configuration.socketGroup
            let (descriptor, file) = try UnixSocketFile.bind(path, backlog: 512) { try Self.restrict(socket: $0, group: group) }
            do {
                // NIO owns the descriptor from here, failed or not.
                return (try await bootstrap.bind(descriptor, childChannelInitializer: initializer), file)
            } catch {
                file.removeIfOurs()
                throw error
            }
        case .tcp(let host, let port):
            do {
                return (try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer), nil)
            } catch {
                // A port another process listens on, most likely.
                throw StartupError("cannot listen on \(address): \(error)")
            }
        }
    }

    /// The socket is 0660, owned by the socket group when one is given:
    /// connecting needs that group, and then the roles file still decides.
    static func restrict(socket path: String, group: String?) throws {
        if let group {
            let gid: gid_t
            if let number = gid_t(group) {
                gid = number
            } else if let entry = getgrnam(group) {
                gid = entry.pointee.gr_gid
            } else {
                throw StartupError("--socket-group: no group named '\(group)'")
            }
            guard chown(path, uid_t.max, gid) == 0 else {
                throw StartupError("cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
        }
        chmod(path, 0o660)
    }

    func serve(_ server: NIOAsyncChannel<Connection, Never>) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await serveConnection(connection) }
                }
            }
        }
    }

    private func identify(_ channel: any Channel) async throws -> PeerIdentity {
        if tls != nil {
            // The handler stays on its event loop; only its future leaves.
            let handshake = try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.handler(type: HandshakeDeadline.self).completed.futureResult
            }.get()
            try await handshake.get()
            guard let certificate = try await channel.nioSSL_peerCertificate().get() else {
                throw ChannelError.ioOnClosedChannel
            }
            return try TLSSetup.identity(of: certificate)
        }
        switch address {
        case .unix:
            return try await PeerCredentials.identify(channel)
        case .tcp:
            return .plaintext(address: channel.remoteAddress?.description ?? "?")
        }
    }

    private func serveConnection(_ connection: Connection) async {
        let channel = connection.channel
        let transport = switch address { case .unix: "unix"; case .tcp: tls == nil ? "tcp" : "tls" }
        dispatcher.context.metrics?.connectionOpened(transport: transport)
        defer { dispatcher.context.metrics?.connectionClosed(transport: transport) }
        if !connections.insert(channel) {
            channel.close(mode: .input, promise: nil)  // accepted as shutdown began
        }
        defer { connections.remove(channel) }
        guard let peer = try? await identify(channel) else {
            // No handshake in time, a certificate that would not verify, or
            // a peer gone before it could be identified.
            try? await connection.executeThenClose { _ in }
            return
        }
        // A peer with no role could only ever be refused: it is told once
        // and let go, before it holds a place or has a byte parsed.
        guard let role = dispatcher.roles.map({ $0.role(of: peer) }) ?? .operator else {
            strangers.refused(peer, logger: logger)
            try? await connection.executeThenClose { inbound in
                _ = await dispatcher.write(.failure(nil, Dispatcher.unauthenticated(peer)), to: ConnectionWriter(channel: channel))
                await strangers.linger(channel, inbound: inbound)
            }
            return
        }
        let refusal = budget.admit(peer, role: role)
        defer { if refusal == nil { budget.release(peer) } }
        do {
            try await connection.executeThenClose { inbound in
                let writer = ConnectionWriter(channel: channel)
                if let refusal {
                    logger.notice("connection refused", metadata: ["peer": "\(peer)", "reason": "\(refusal.message)"])
                    await dispatcher.write(.failure(nil, refusal), to: writer)
                    return
                }
                let handle = ConnectionHandle(sink: writer)
                defer { dispatcher.context.hub.connectionClosed(handle) }
                let activity = ConnectionActivity()
                let watchdog = Task { await closeWhenIdle(channel, activity: activity, handle: handle) }
                defer { watchdog.cancel() }
                let maxInFlight = configuration.maxInFlightPerConnection
                let maxOwed = Self.maxOwedReplies(maxInFlight: maxInFlight)
                try await withThrowingDiscardingTaskGroup { group in
                    for try await frame in inbound {
                        // Back-pressure: with `maxOwed` replies not yet on
                        // the wire, the next request waits (and the socket
                        // is not read) until the client reads.
                        await activity.owe(limit: maxOwed)
                        switch frame {
                        case .line(let line):
                            guard activity.begin(limit: maxInFlight) else {
                                let error = ResponseError.limitExceeded(
                                    "maxInFlight", maxInFlight, "\(maxInFlight) requests are already running on this connection; wait for their replies")
                                group.addTask {
                                    await dispatcher.refuse(line, with: error, replyingTo: writer)
                                    activity.settle()
                                }
                                continue
                            }
                            let admission = BatchAdmission(
                                maxMembers: configuration.maxBatchMembers, maxInFlight: maxInFlight,
                                claim: { activity.claim($0, limit: maxInFlight) }, release: { activity.end(count: $0) })
                            group.addTask {
                                await dispatcher.handle(line, from: peer, on: handle, admission: admission) { activity.end() }
                                activity.settle()
                            }
                        case .oversized(let length):
                            activity.touch()
                            group.addTask {
                                await dispatcher.oversized(length, limit: configuration.maxMessageBytes, replyingTo: writer)
                                activity.settle()
                            }
                        }
                    }
                }
                // Every reply task has returned, so every reply is on the
                // wire: a half-closed client has them all before the close.
            }
        } catch {
            logger.debug("connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// Replies a connection may owe (requests read, replies not yet written)
    /// before it is no longer read: every request it may have running, and
    /// as many refusals of requests beyond that.
    static func maxOwedReplies(maxInFlight: Int) -> Int {
        2 * maxInFlight
    }

    /// Closes the connection once it has gone `idleTimeout` without a
    /// complete request while nothing runs. Bytes that never make a line
    /// (a dribbling client) do not count as activity.
    private func closeWhenIdle(_ channel: any Channel, activity: ConnectionActivity, handle: ConnectionHandle) async {
        let limit = configuration.idleTimeout
        while !Task.isCancelled {
            // Asleep until the moment the connection would be idle, not on a
            // tick: a thousand quiet connections cost no CPU.
            let remaining = limit - activity.idleSeconds()
            try? await Task.sleep(for: .milliseconds(Int64(max(remaining, 0.05) * 1000)))
            if Task.isCancelled { return }
            // A connection that receives notifications is in use.
            if dispatcher.context.hub.isSubscribed(handle) { activity.touch() }
            guard activity.idleSeconds() >= limit else { continue }
            let error = ResponseError(.limitExceeded, "no request for \(Self.seconds(limit)); closing the connection",
                                      data: ["limit": "idleTimeout", "value": .double(limit)])
            await dispatcher.write(.failure(nil, error), to: handle.sink)
            try? await channel.close()
            return
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

/// When a connection last received a complete request, how many of its
/// requests are running, and how many replies it is owed.
final class ConnectionActivity: Sendable {
    private struct State {
        var last = NIODeadline.now()
        var running = 0
        /// Requests read whose reply is not written yet (running or not).
        var owed = 0
        /// The read loop, waiting for `owed` to come down.
        var reader: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())

    /// A request arrives; false when `limit` are running already.
    func begin(limit: Int) -> Bool {
        state.withLockedValue { state in
            state.last = .now()
            guard state.running < limit else { return false }
            state.running += 1
            return true
        }
    }

    /// A batch's further members: takes `extra` more places, all or none.
    func claim(_ extra: Int, limit: Int) -> Bool {
        state.withLockedValue { state in
            guard state.running <= limit - extra else { return false }
            state.running += extra
            return true
        }
    }

    func end(count: Int = 1) {
        state.withLockedValue { state in
            state.running -= count
            state.last = .now()
        }
    }

    func touch() {
        state.withLockedValue { $0.last = .now() }
    }

    /// Waits while `limit` replies are owed, then owes one more. Only the
    /// connection's read loop calls it.
    func owe(limit: Int) async {
        while true {
            let owing = state.withLockedValue { state -> Bool in
                guard state.owed < limit else { return false }
                state.owed += 1
                return true
            }
            if owing { return }
            await withCheckedContinuation { continuation in
                let roomNow = state.withLockedValue { state -> Bool in
                    if state.owed < limit { return true }
                    state.reader = continuation
                    return false
                }
                if roomNow { continuation.resume() }
            }
        }
    }

    /// A reply owed is written (or its connection is gone).
    func settle() {
        let reader = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.owed -= 1
            defer { state.reader = nil }
            return state.reader
        }
        reader?.resume()
    }

    /// Seconds since the last request ended or arrived; 0 while one runs.
    func idleSeconds() -> Double {
        state.withLockedValue { state in
            state.running > 0 ? 0 : Double((NIODeadline.now() - state.last).nanoseconds) / 1e9
        }
    }
}

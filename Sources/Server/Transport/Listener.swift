import BpfleetShared
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Accepts connections on one address and serves each until it closes.
/// One connection's failure never reaches another or the listener.
struct Listener: Sendable {
    let address: NodeAddress
    let configuration: Configuration
    let dispatcher: Dispatcher
    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    /// Open connections, so that a shutdown can end them.
    let connections = OpenConnections()

    typealias Connection = NIOAsyncChannel<LineFrame, ByteBuffer>

    func bind() async throws -> NIOAsyncChannel<Connection, Never> {
        let maximumLength = configuration.maxMessageBytes
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            // `nc -U` and `socat` shut their sending side after the last request
            // and still wait for the replies.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(LineFrameDecoder(maximumLength: maximumLength)))
                // A connection accepted in the same instant the listener is
                // closed at shutdown is dropped by the listener's stream
                // before anyone runs it; with close-on-deinit it is simply
                // closed instead of trapping on an unfinished writer.
                return try Connection(synchronouslyWrapping: channel)
            }
        }
        switch address {
        case .unix(let path):
            try makeDirectories((path as NSString).deletingLastPathComponent, mode: 0o755)
            let server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true,
                                                  childChannelInitializer: initializer)
            chmod(path, 0o660)
            return server
        case .tcp(let host, let port):
            // TLS and its refusal of non-loopback plaintext come with remote access.
            guard ["127.0.0.1", "::1", "localhost"].contains(host) else {
                throw StartupError("plain TCP is served on loopback only; \(address) needs TLS, which this version does not have yet")
            }
            return try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
        }
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

    private func serveConnection(_ connection: Connection) async {
        let channel = connection.channel
        if !connections.insert(channel) {
            channel.close(mode: .input, promise: nil)  // accepted as shutdown began
        }
        defer { connections.remove(channel) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                let writer = ConnectionWriter(outbound: outbound, channel: channel)
                let inFlight = AsyncSemaphore(permits: configuration.maxInFlightPerConnection)
                try await withThrowingDiscardingTaskGroup { group in
                    for try await frame in inbound {
                        // Past the in-flight bound, stop reading: TCP/Unix
                        // backpressure slows the client down.
                        await inFlight.wait()
                        group.addTask {
                            defer { inFlight.signal() }
                            switch frame {
                            case .line(let line):
                                await dispatcher.handle(line, replyingTo: writer)
                            case .oversized(let length):
                                await dispatcher.oversized(length, limit: configuration.maxMessageBytes, replyingTo: writer)
                            }
                        }
                    }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }
}

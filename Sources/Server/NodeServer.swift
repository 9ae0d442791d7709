import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// bpfleetd: prepares the node (bpffs, tracefs, state directory), then
/// serves every listen address until a graceful shutdown.
public final class NodeServer: Service, Sendable {
    public let configuration: Configuration
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        bpfleet_capture_libbpf_messages()
        try Filesystems.preparePinRoot(configuration.pinRoot)
        if Filesystems.tracefsPath(mountIfMissing: configuration.mountTracefs) == nil {
            logger.warning("tracefs is not mounted: tracepoint targets are unavailable (mount -t tracefs tracefs /sys/kernel/tracing)")
        }
        try makeDirectories(configuration.stateDirectory)
        if configuration.runStatistics, !RunStatistics.enable() {
            logger.warning("the kernel refused BPF_ENABLE_STATS: probes will not report run counts")
        }
        let features = KernelFeatures.probe()
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: configuration.pinRoot)) ?? []
        if !leftovers.isEmpty {
            logger.warning("pins from an earlier bpfleetd are under the pin root and are left as they are",
                           metadata: ["pinRoot": "\(configuration.pinRoot)", "probes": "\(leftovers.sorted())"])
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let kernelThread = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let registry = try ProbeRegistry(
            kernelLoop: kernelThread.next(), stateDirectory: configuration.stateDirectory,
            pinRoot: configuration.pinRoot, features: features, logger: logger)
        let startedAt = Date()
        let context = CallContext(registry: registry, features: features, startedAt: startedAt,
                                  nodeFacts: try NodeFacts(features: features, startedAt: startedAt), threadPool: pool)
        let dispatcher = Dispatcher(context: context, logger: logger)

        var bound: [(Listener, NIOAsyncChannel<Listener.Connection, Never>)] = []
        for address in configuration.listen {
            let listener = Listener(address: address, configuration: configuration, dispatcher: dispatcher,
                                    group: group, logger: logger)
            bound.append((listener, try await listener.bind()))
            logger.info("listening", metadata: ["address": "\(address)"])
        }
        let servers = bound
        logger.info("bpfleetd ready", metadata: [
            "version": "\(bpfleetVersion)", "kernel": "\(features.kernelRelease)",
            "stateDir": "\(configuration.stateDirectory)", "pinRoot": "\(configuration.pinRoot)",
        ])
        // Start-up is done: tell a waiting parent (tests, the demo) on stdout.
        let ready = "bpfleetd ready " + configuration.listen.map(\.description).joined(separator: " ") + "\n"
        _ = ready.withCString { Foundation.write(STDOUT_FILENO, $0, strlen($0)) }

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for (listener, server) in servers {
                    group.addTask { try await listener.serve(server) }
                }
            }
        } onGracefulShutdown: {
            for (listener, server) in servers {
                server.channel.close(promise: nil)
                listener.connections.closeInbound()
            }
        }
        for address in configuration.listen {
            if case .unix(let path) = address { unlink(path) }
        }
        // Probes stay in the kernel, pinned: programs keep running across
        // restarts (DESIGN.md, "State and survival").
        let remaining = await registry.probeCount
        logger.info("bpfleetd stopped", metadata: ["probes": "\(remaining)"])
        try? await pool.shutdownGracefully()
        try? await kernelThread.shutdownGracefully()
        try? await group.shutdownGracefully()
    }
}

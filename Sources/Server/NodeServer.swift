import BpfleetShared
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// bpfleetd: prepares the node (bpffs, tracefs, state directory), then
/// serves every listen address until a graceful shutdown.
public final class NodeServer: Service, Sendable {
    public let configuration: Configuration
    private let logger: Logger
    /// The SIGHUP watcher, cancelled at shutdown; `stopped` when the
    /// shutdown came before the watcher started (a SIGTERM right after
    /// start), so that it is cancelled as soon as it exists.
    private let hangups = NIOLockedValueBox<(watcher: Task<Void, Never>?, stopped: Bool)>((nil, false))

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let tls = try Self.checkListeners(configuration)
        let metricsTLS = try Self.checkMetricsListeners(configuration, rpcTLS: tls)
        if tls != nil || metricsTLS != nil, configuration.rolesFile == nil {
            // Said at start, where the operator is looking, not only to
            // each client that is refused.
            logger.warning("TLS listeners without a roles file: every client certificate will be refused (-32001); give --roles FILE (docs/security.md)")
        }
        Self.raiseDescriptorLimit(to: configuration.maxConnections + 256)
        let roles = try RoleBook(path: configuration.rolesFile)
        let policy = try configuration.objectPolicyFile.map(ObjectPolicy.init(path:))
        if policy == nil {
            logger.notice("no object policy: objects are stored and loaded whoever signed them (--object-policy FILE, docs/security.md)")
        }
        captureLibbpfMessages()
        try Filesystems.preparePinRoot(configuration.pinRoot)
        try makeDirectories(configuration.stateDirectory)
        // One bpfleetd per state directory, pin root and socket: a second
        // one stops here, before it touches a probe, naming the first.
        let ownership = try [OwnershipLock.stateDirectory(configuration.stateDirectory),
                             OwnershipLock.pinRoot(configuration.pinRoot)]
        for address in configuration.listen {
            if case .unix(let path) = address { try UnixSocketFile.checkAvailable(path) }
        }
        if Filesystems.tracefsPath(mountIfMissing: configuration.mountTracefs) == nil {
            logger.warning("tracefs is not mounted: tracepoint targets are unavailable (mount -t tracefs tracefs /sys/kernel/tracing)")
        }
        if configuration.runStatistics, !RunStatistics.enable() {
            logger.warning("the kernel refused BPF_ENABLE_STATS: probes will not report run counts")
        }
        var features = KernelFeatures.probe()
        features.refusedProgramTypes = configuration.refusedProgramTypes

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let kernelThread = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let helper = ObjectHelper(executable: configuration.helperExecutable, limits: configuration.helperLimits,
                                  keepCapabilities: !configuration.dropCapabilities, logger: logger)
        helper.warmUp()
        let metrics = ServerMetrics(maxExportEntries: configuration.metricsMaxEntries)
        let registry = try ProbeRegistry(
            kernelLoop: kernelThread.next(), stateDirectory: configuration.stateDirectory,
            pinRoot: configuration.pinRoot, maxProbeMemory: configuration.maxProbeMemory, features: features, helper: helper,
            policy: policy, logger: logger, metrics: metrics)
        // Probes an earlier bpfleetd left: adopted, restored or failed,
        // before the first request can see them.
        await registry.recover()
        let startedAt = Date()
        var context = CallContext(registry: registry, features: features, startedAt: startedAt,
                                  nodeFacts: try NodeFacts(features: features, startedAt: startedAt), threadPool: pool,
                                  hub: SubscriptionHub(maxPerConnection: configuration.maxSubscriptionsPerConnection),
                                  maxQueuedEvents: configuration.maxQueuedEvents,
                                  logger: logger)
        context.foreignMaps = configuration.foreignMaps
        context.metrics = metrics
        let audit = try AuditLog(path: configuration.auditLogPath, logger: logger)
        let dispatcher = Dispatcher(context: context, roles: roles, audit: audit, logger: logger)
        let budget = ConnectionBudget(maxTotal: configuration.maxConnections,
                                      maxPerIdentity: configuration.maxConnectionsPerIdentity)

        var bound: [(Listener, NIOAsyncChannel<Listener.Connection, Never>)] = []
        var socketFiles: [UnixSocketFile] = []
        var metricsServers: [(MetricsListener, any Channel)] = []
        do {
            for address in configuration.listen {
                var listenerTLS: NIOSSLContext?
                if case .tcp = address { listenerTLS = tls }
                let listener = Listener(address: address, configuration: configuration, dispatcher: dispatcher,
                                        group: group, tls: listenerTLS, budget: budget, logger: logger)
                let (server, socketFile) = try await listener.bind()
                bound.append((listener, server))
                socketFiles += socketFile.map { [$0] } ?? []
                logger.info("listening", metadata: ["address": "\(address)"])
            }
            for address in configuration.metricsListen {
                guard case .tcp(let host, let port) = address else { continue }
                let listener = MetricsListener(
                    host: host, port: port, tls: metricsTLS, roles: roles, context: context,
                    metrics: metrics, timeout: .nanoseconds(Int64(configuration.metricsTimeout * 1e9)), group: group, logger: logger)
                metricsServers.append((listener, try await listener.bind()))
                logger.info("serving metrics", metadata: ["address": "\(address)", "tls": "\(metricsTLS != nil)"])
            }
        } catch {
            for (_, channel) in metricsServers { try? await channel.close() }
            // A listener that could not bind: the ones already bound close
            // and take their socket files with them.
            for (_, server) in bound { try? await server.channel.close() }
            for file in socketFiles { file.removeIfOurs() }
            throw error
        }
        // Start-up is over: what needed more than the BPF work itself
        // (mounts, the socket's group, limits, run statistics, kallsyms
        // opened) is done. The helper started above drops its own.
        if !StackSymbolizer.shared.kallsymsShowsAddresses {
            logger.notice("/proc/kallsyms shows bpfleetd no addresses: kernel stack frames and ksym metrics stay addresses (start bpfleetd with CAP_SYSLOG, or set kernel.kptr_restrict=0 and kernel.perf_event_paranoid=1)")
        }
        if configuration.dropCapabilities {
            do {
                try LeastPrivilege.limitServer(logger: logger)
            } catch {
                for (_, channel) in metricsServers { try? await channel.close() }
                for (_, server) in bound { try? await server.channel.close() }
                for file in socketFiles { file.removeIfOurs() }
                throw error
            }
        } else {
            logger.notice("capabilities not dropped (--keep-capabilities)", metadata: ["effective": "\(CapabilitySet.current()?.effective ?? [])"])
        }
        let servers = bound
        let metricsChannels = metricsServers
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
                for (_, channel) in metricsChannels {
                    group.addTask { try await channel.closeFuture.get() }
                }
                group.addTask { await self.reloadOnHangup(roles, policy) }
            }
        } onGracefulShutdown: {
            for (listener, channel) in metricsChannels {
                channel.close(promise: nil)
                listener.connections.closeAll()
            }
            for (listener, server) in servers {
                server.channel.close(promise: nil)
                listener.connections.closeInbound()
            }
            // Replies to requests already read go out; a client that does
            // not read them is not waited for past the grace period.
            let open = servers.map(\.0.connections)
            let grace = self.configuration.shutdownGrace
            Task {
                try? await Task.sleep(for: .milliseconds(Int64(grace * 1000)))
                for connections in open { connections.closeAll() }
            }
            self.hangups.withLockedValue { hangups in
                hangups.stopped = true
                hangups.watcher?.cancel()
            }
        }
        // Only the socket files this process bound: one that someone put in
        // their place since is not ours to remove.
        for file in socketFiles where !file.removeIfOurs() {
            logger.notice("the socket file is no longer the one bpfleetd bound (removed or replaced): left alone", metadata: ["path": "\(file.path)"])
        }
        // Probes stay in the kernel, pinned: programs keep running across
        // restarts (docs/state-and-pins.md).
        let remaining = await registry.probeCount
        logger.info("bpfleetd stopped", metadata: ["probes": "\(remaining)"])
        try? await pool.shutdownGracefully()
        try? await kernelThread.shutdownGracefully()
        try? await group.shutdownGracefully()
        // Held until here: the next bpfleetd may start once this one has
        // let go of everything.
        for lock in ownership { lock.release() }
    }

    /// SIGHUP: read the roles file and the object policy again; connections
    /// stay, and their next call is judged by the new roles and policy.
    private func reloadOnHangup(_ roles: RoleBook, _ policy: ObjectPolicy?) async {
        let task = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                do {
                    try roles.reload()
                    logger.notice("roles file reloaded", metadata: ["path": "\(configuration.rolesFile ?? "-")"])
                } catch {
                    logger.error("roles file not reloaded; the previous roles stay", metadata: ["error": "\(error)"])
                }
                guard let policy else { continue }
                do {
                    try policy.reload()
                    logger.notice("object policy reloaded", metadata: ["path": "\(policy.path)"])
                } catch {
                    logger.error("object policy not reloaded; the previous policy stays", metadata: ["error": "\(error)"])
                }
            }
        }
        hangups.withLockedValue { hangups in
            hangups.watcher = task
            if hangups.stopped { task.cancel() }
        }
        await task.value
    }

    /// Every TCP listener has TLS, unless plaintext was asked for and it is
    /// on loopback. Returns the TLS context the TCP listeners share.
    static func checkListeners(_ configuration: Configuration) throws -> NIOSSLContext? {
        let tcpHosts = configuration.listen.compactMap { address -> String? in
            if case .tcp(let host, _) = address { return host }
            return nil
        }
        guard !tcpHosts.isEmpty else { return nil }
        let tlsFlags = [configuration.tlsCertificate, configuration.tlsKey, configuration.clientCA]
        if configuration.insecurePlaintext {
            for host in tcpHosts where !isLoopback(host) {
                throw StartupError("--insecure-plaintext serves loopback addresses only; \(host) is not one. Use TLS (--tls-cert, --tls-key, --client-ca) to listen on \(host)")
            }
            guard tlsFlags.allSatisfy({ $0 == nil }) else {
                throw StartupError("--insecure-plaintext and TLS flags exclude each other")
            }
            return nil
        }
        guard let certificate = configuration.tlsCertificate, let key = configuration.tlsKey,
              let clientCA = configuration.clientCA else {
            throw StartupError("TCP listeners need TLS: --tls-cert, --tls-key and --client-ca (or --insecure-plaintext on a loopback address)")
        }
        return try TLSSetup.serverContext(certificate: certificate, key: key, clientCA: clientCA)
    }

    /// The metrics listeners' TLS: the node's certificates when it has them
    /// (every metrics address is then served with TLS), else none, and
    /// then only loopback addresses may serve metrics (in plaintext).
    static func checkMetricsListeners(_ configuration: Configuration, rpcTLS: NIOSSLContext?) throws -> NIOSSLContext? {
        var hosts: [String] = []
        for address in configuration.metricsListen {
            guard case .tcp(let host, _) = address else {
                throw StartupError("--metrics-listen takes tcp://HOST:PORT addresses, not \(address)")
            }
            hosts.append(host)
        }
        guard !hosts.isEmpty else { return nil }
        guard let certificate = configuration.tlsCertificate, let key = configuration.tlsKey,
              let clientCA = configuration.clientCA else {
            for host in hosts where !isLoopback(host) {
                throw StartupError("--metrics-listen on \(host) needs TLS: --tls-cert, --tls-key and --client-ca (only a loopback address is served in plaintext)")
            }
            return nil
        }
        if let rpcTLS { return rpcTLS }
        return try TLSSetup.serverContext(certificate: certificate, key: key, clientCA: clientCA)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Each connection is a descriptor; the soft limit (often 1024) is
    /// raised toward the hard one so that --max-connections is reachable.
    static func raiseDescriptorLimit(to wanted: Int) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(wanted) else { return }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}

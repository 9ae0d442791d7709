import Foundation
import ArgumentParser
import BpfleetServer
import BpfleetShared
import Logging
import ServiceLifecycle

/// `bpfleetd`: flags in, a Configuration out, the server run in a
/// ServiceGroup that shuts down gracefully on SIGTERM and SIGINT.
@main
struct BpfleetDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bpfleetd", abstract: "The bpfleet node server: loads, attaches and serves eBPF programs.",
        version: bpfleetVersion)

    @Option(name: .long, help: "Address to listen on (unix:/PATH or tcp://HOST:PORT); repeatable.")
    var listen: [String] = []

    @Option(name: .customLong("metrics-listen"),
            help: ArgumentHelp("Serve Prometheus metrics (GET /metrics) on tcp://HOST:PORT; TLS with --tls-cert/--tls-key/--client-ca unless on loopback; repeatable (docs/metrics.md).", valueName: "address"))
    var metricsListen: [String] = []

    @Option(name: .customLong("metrics-timeout"), help: "Seconds a metrics client has for each request and its response.")
    var metricsTimeout: Double = 10

    @Option(name: .customLong("metrics-max-entries"),
            help: "Map entries one scrape reads of one probe's exported maps; past it they are cut short (bpfleet_map_export_truncated).")
    var metricsMaxEntries = 65_536

    @Option(name: .customLong("state-dir"), help: "State directory: uploaded objects and probe state.")
    var stateDirectory = "/var/lib/bpfleet"

    @Option(name: .customLong("pin-root"), help: "bpffs directory under which probes' maps and links are pinned.")
    var pinRoot = "/sys/fs/bpf/bpfleet"

    @Option(name: .customLong("tls-cert"), help: "Server certificate chain (PEM) for TCP listeners.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "The server certificate's private key (PEM).")
    var tlsKey: String?

    @Option(name: .customLong("client-ca"), help: "CA certificate(s) (PEM) that client certificates must chain to.")
    var clientCA: String?

    @Flag(name: .customLong("insecure-plaintext"), help: "Plain TCP without TLS; only on loopback addresses.")
    var insecurePlaintext = false

    @Option(name: .long, help: "Roles file (YAML): who is a viewer and who an operator; re-read on SIGHUP.")
    var roles: String?

    @Option(name: .customLong("object-policy"), help: "Object policy (YAML): the keys whose signatures an object needs before it is stored or loaded; re-read on SIGHUP.")
    var objectPolicy: String?

    @Option(name: .customLong("audit-log"), help: "Audit log of every call that changes the node (default STATE_DIR/audit.log).")
    var auditLog: String?

    @Option(name: .customLong("socket-group"), help: "Group (name or id) that owns the Unix socket (mode 0660).")
    var socketGroup: String?

    @Option(name: .customLong("max-message-bytes"), help: "Largest request accepted, in bytes.")
    var maxMessageBytes = 64 << 20

    @Option(name: .customLong("max-connections"), help: "Connections open at once, in all.")
    var maxConnections = 4096

    @Option(name: .customLong("max-connections-per-identity"), help: "Connections open at once per uid or client certificate.")
    var maxConnectionsPerIdentity = 256

    @Option(name: .customLong("max-in-flight"), help: "Requests one connection may have running at once.")
    var maxInFlight = 64

    @Option(name: .customLong("max-batch-members"), help: "Requests one batch may hold; each also takes one of the connection's --max-in-flight places.")
    var maxBatchMembers = 64

    @Option(name: .customLong("max-subscriptions"), help: "Subscriptions (watches, event streams) one connection may hold.")
    var maxSubscriptions = 64

    @Option(name: .customLong("max-queued-events"), help: "Records an event subscription holds for a slow reader before dropping them (counted in lost).")
    var maxQueuedEvents = 65536

    @Option(name: .customLong("handshake-timeout"), help: "Seconds a TLS client has to complete its handshake.")
    var handshakeTimeout: Double = 10

    @Option(name: .customLong("idle-timeout"), help: "Seconds without a complete request before a connection is closed.")
    var idleTimeout: Double = 300

    @Option(name: .customLong("max-probe-memory"), help: "Kernel memory one probe's maps may take, each and in total: bytes, or with K, M, G, T (powers of 1024).")
    var maxProbeMemory = "256M"

    @Flag(name: .customLong("no-run-stats"), help: "Do not turn on kernel run statistics (run counts and time).")
    var noRunStats = false

    @Flag(name: .customLong("keep-capabilities"),
          help: "Keep every capability bpfleetd was started with instead of dropping to the documented set (docs/security.md, \"Least privilege\"): for a program or target that needs more, such as bpf_probe_write_user (CAP_SYS_ADMIN in the object helper).")
    var keepCapabilities = false

    @Flag(name: .customLong("foreign-maps"),
          help: "Let operators read (snapshot, lookup, watch) maps bpfleet does not own, by kernel id; audited. Writes to them are refused always.")
    var foreignMaps = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (or $BPFLEET_LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .customLong("object-helper-memory"),
            help: "Memory the process that opens uploaded objects may allocate, in bytes (suffixes K, M, G).")
    var helperMemory = "1G"

    @Option(name: .customLong("object-helper-cpu"), help: "CPU seconds the object helper may spend on one request.")
    var helperCPU = 30

    @Option(name: .customLong("object-helper-timeout"), help: "Seconds bpfleetd waits for the object helper's answer before it stops it.")
    var helperTimeout: Double = 60

    @Option(name: .customLong("refuse-program-types"),
            help: ArgumentHelp("Program types this node refuses to load or verify, comma-separated, as libbpf names them (kprobe,lsm).", valueName: "types"))
    var refuseProgramTypes: String?

    /// This process is the object helper bpfleetd starts (docs/hostile-input.md).
    @Flag(name: .customLong("object-helper"), help: .hidden)
    var objectHelper = false

    func validate() throws {
        for address in listen { _ = try parse(address) }
        for address in metricsListen {
            guard case .tcp = try parse(address) else { throw ValidationError("--metrics-listen takes tcp://HOST:PORT, not \(address)") }
        }
        guard metricsTimeout > 0 else { throw ValidationError("--metrics-timeout must be more than 0") }
        guard metricsMaxEntries >= 1 else { throw ValidationError("--metrics-max-entries must be at least 1") }
        guard maxMessageBytes >= 1024 else { throw ValidationError("--max-message-bytes must be at least 1024") }
        guard maxInFlight >= 1 else { throw ValidationError("--max-in-flight must be at least 1") }
        guard maxBatchMembers >= 1 else { throw ValidationError("--max-batch-members must be at least 1") }
        guard maxConnections >= 1, maxConnectionsPerIdentity >= 1 else {
            throw ValidationError("--max-connections and --max-connections-per-identity must be at least 1")
        }
        guard handshakeTimeout > 0, idleTimeout > 0 else {
            throw ValidationError("--handshake-timeout and --idle-timeout must be more than 0")
        }
        guard let memory = KernelMemoryBudget.parseSize(maxProbeMemory), memory > 0 else {
            throw ValidationError("--max-probe-memory: '\(maxProbeMemory)' is not a size (bytes, or a number with K, M, G or T: 512M, 1G)")
        }
        _ = memory
        guard let helperBytes = KernelMemoryBudget.parseSize(helperMemory), helperBytes >= 64 << 20 else {
            throw ValidationError("--object-helper-memory: expected a size of at least 64M (bytes, or with K, M or G), got '\(helperMemory)'")
        }
        _ = helperBytes
        guard helperCPU >= 1, helperTimeout > 0 else {
            throw ValidationError("--object-helper-cpu must be at least 1 and --object-helper-timeout more than 0")
        }
        if let refuseProgramTypes {
            do throws(ProgramTypePolicy.PolicyError) {
                _ = try ProgramTypePolicy.parse(refuseProgramTypes)
            } catch {
                throw ValidationError("--refuse-program-types: \(error)")
            }
        }
        if let level = logLevel ?? ProcessInfo.processInfo.environment["BPFLEET_LOG_LEVEL"], Logger.Level(rawValue: level) == nil {
            throw ValidationError("unknown log level '\(level)'")
        }
    }

    private func parse(_ address: String) throws -> NodeAddress {
        do { return try NodeAddress(parsing: address) } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
        let limits = HelperLimits(memoryBytes: KernelMemoryBudget.parseSize(helperMemory).map { Int(clamping: $0) } ?? HelperLimits().memoryBytes,
                                  cpuSeconds: helperCPU, timeoutSeconds: helperTimeout)
        if objectHelper {
            throw ExitCode(ObjectHelperProcess.serve(limits: limits, dropCapabilities: !keepCapabilities))
        }
        var configuration = Configuration()
        configuration.helperLimits = limits
        if !listen.isEmpty { configuration.listen = try listen.map(parse) }
        configuration.metricsListen = try metricsListen.map(parse)
        configuration.metricsTimeout = metricsTimeout
        configuration.metricsMaxEntries = metricsMaxEntries
        configuration.stateDirectory = stateDirectory
        configuration.pinRoot = pinRoot
        configuration.maxMessageBytes = maxMessageBytes
        configuration.maxInFlightPerConnection = maxInFlight
        configuration.maxBatchMembers = maxBatchMembers
        configuration.maxConnections = maxConnections
        configuration.maxSubscriptionsPerConnection = maxSubscriptions
        configuration.maxQueuedEvents = maxQueuedEvents
        configuration.maxConnectionsPerIdentity = maxConnectionsPerIdentity
        configuration.handshakeTimeout = handshakeTimeout
        configuration.idleTimeout = idleTimeout
        configuration.tlsCertificate = tlsCertificate
        configuration.tlsKey = tlsKey
        configuration.clientCA = clientCA
        configuration.insecurePlaintext = insecurePlaintext
        configuration.rolesFile = roles
        configuration.objectPolicyFile = objectPolicy
        configuration.auditLog = auditLog
        configuration.socketGroup = socketGroup
        configuration.runStatistics = !noRunStats
        configuration.foreignMaps = foreignMaps
        configuration.dropCapabilities = !keepCapabilities
        configuration.refusedProgramTypes = try refuseProgramTypes.map { text in try ProgramTypePolicy.parse(text) } ?? []
        configuration.maxProbeMemory = KernelMemoryBudget.parseSize(maxProbeMemory) ?? configuration.maxProbeMemory
        let level = logLevel ?? ProcessInfo.processInfo.environment["BPFLEET_LOG_LEVEL"] ?? "info"
        configuration.logLevel = Logger.Level(rawValue: level) ?? .info

        let handlerLevel = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = handlerLevel
            return handler
        }
        let logger = Logger(label: "bpfleetd")
        let server = NodeServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as StartupError {
            logger.critical("\(error.description)")
            throw ExitCode(error.exitStatus)
        }
    }
}

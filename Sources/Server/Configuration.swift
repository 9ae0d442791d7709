import BpfleetShared
import Logging

/// Everything bpfleetd is told at start.
public struct Configuration: Sendable {
    public var listen: [NodeAddress] = [.unix(path: NodeAddress.defaultUnixPath)]
    /// `--metrics-listen`: TCP addresses serving `GET /metrics` (docs/metrics.md); none by default.
    public var metricsListen: [NodeAddress] = []
    /// Seconds a metrics client has for each request, from the connection
    /// opening (TLS handshake included) or the previous response, to its
    /// response being written.
    public var metricsTimeout: Double = 10
    /// `--metrics-max-entries`: entries a rendering reads of one probe's
    /// exported maps; past it the exports are cut short and say so.
    public var metricsMaxEntries = 65_536
    public var stateDirectory = "/var/lib/bpfleet"
    public var pinRoot = "/sys/fs/bpf/bpfleet"

    // Security (docs/security.md).
    /// Server certificate chain, its key, and the CA that client certificates must chain to.
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var clientCA: String?
    /// Plain TCP, allowed on loopback addresses only.
    public var insecurePlaintext = false
    public var rolesFile: String?
    /// The object policy (YAML): whose signatures an object needs; none
    /// means every object is taken, as before (docs/security.md).
    public var objectPolicyFile: String?
    /// Default: STATE_DIR/audit.log.
    public var auditLog: String?
    /// Group that owns the Unix socket (mode 0660); name or number.
    public var socketGroup: String?

    // Limits: each trips with -32009 naming it.
    /// Largest inbound message; longer lines are discarded with an error.
    public var maxMessageBytes = 64 << 20
    public var maxConnections = 4096
    public var maxConnectionsPerIdentity = 256
    /// Requests one connection may have running at once.
    public var maxInFlightPerConnection = 64
    /// Requests one batch may hold (-32600 beyond); each member also takes
    /// one of the connection's in-flight places.
    public var maxBatchMembers = 64
    /// map.watch / events.subscribe subscriptions one connection may hold.
    public var maxSubscriptionsPerConnection = 64
    /// Records one event subscription holds for a slow subscriber before it
    /// drops (and counts in `lost`).
    public var maxQueuedEvents = 65536
    /// Seconds a TLS client has to finish its handshake.
    public var handshakeTimeout: Double = 10
    /// Seconds without a complete request (and none running) before a
    /// connection is closed.
    public var idleTimeout: Double = 300
    /// Seconds a stopping bpfleetd waits for clients to read the replies
    /// to requests it had read, before it closes their connections.
    public var shutdownGrace: Double = 2
    /// Kernel memory one probe's maps may take, each and all together
    /// (KernelMemoryBudget); a load past it is refused before the kernel
    /// allocates anything.
    public var maxProbeMemory: UInt64 = 256 << 20

    /// Keep kernel run statistics (run counts, run time) on.
    public var runStatistics = true
    /// Whether operators may read maps bpfleet does not own (docs/security.md).
    public var foreignMaps = false
    /// Drop, once started, every capability outside
    /// `LeastPrivilege.serverSet` (docs/security.md, "Least privilege").
    public var dropCapabilities = true
    /// Mount tracefs at /sys/kernel/tracing when it is mounted nowhere.
    public var mountTracefs = true
    public var logLevel: Logger.Level = .info

    /// The object helper (docs/hostile-input.md): the executable started
    /// with `--object-helper`, and the limits it runs under.
    public var helperExecutable = "/proc/self/exe"
    public var helperLimits = HelperLimits()
    /// Program types (libbpf's names: kprobe, lsm, tracing, ...) this node refuses to load or verify.
    public var refusedProgramTypes: [String] = []

    public init() {}

    var auditLogPath: String { auditLog ?? stateDirectory + "/audit.log" }
}

import BpfleetShared
import Logging

/// Everything bpfleetd is told at start.
public struct Configuration: Sendable {
    public var listen: [NodeAddress] = [.unix(path: NodeAddress.defaultUnixPath)]
    public var stateDirectory = "/var/lib/bpfleet"
    public var pinRoot = "/sys/fs/bpf/bpfleet"
    /// Largest inbound message; longer lines are discarded with an error.
    public var maxMessageBytes = 64 << 20
    /// Requests one connection may have running at once; reading from it
    /// pauses beyond that.
    public var maxInFlightPerConnection = 64
    /// Keep kernel run statistics (run counts, run time) on.
    public var runStatistics = true
    /// Mount tracefs at /sys/kernel/tracing when it is mounted nowhere.
    public var mountTracefs = true
    public var logLevel: Logger.Level = .info

    public init() {}
}

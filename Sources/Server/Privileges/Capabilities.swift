import CBPFSupport

/// A set of Linux capabilities: bit N is capability N, as the kernel
/// numbers them (CAP_BPF is 39).
public struct CapabilitySet: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    init(number: Int) { self.init(rawValue: 1 << UInt64(number)) }

    public static let chown = CapabilitySet(number: 0)
    public static let dacReadSearch = CapabilitySet(number: 2)
    public static let setpcap = CapabilitySet(number: 8)
    public static let netAdmin = CapabilitySet(number: 12)
    public static let sysPtrace = CapabilitySet(number: 19)
    public static let sysAdmin = CapabilitySet(number: 21)
    public static let sysResource = CapabilitySet(number: 24)
    public static let syslog = CapabilitySet(number: 34)
    public static let perfmon = CapabilitySet(number: 38)
    public static let bpf = CapabilitySet(number: 39)

    /// The kernel's names, by number (linux/capability.h).
    static let names = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// Each capability's name, lowest number first.
    public var names: [String] {
        (0..<64).filter { rawValue & (1 << UInt64($0)) != 0 }.map { $0 < Self.names.count ? Self.names[$0] : "CAP_\($0)" }
    }

    /// The names separated by spaces, or "none".
    public var description: String { isEmpty ? "none" : names.joined(separator: " ") }

    /// The calling thread's sets, or nil when capget fails.
    static func current() -> (effective: CapabilitySet, permitted: CapabilitySet, bounding: CapabilitySet)? {
        var effective: UInt64 = 0, permitted: UInt64 = 0, bounding: UInt64 = 0
        guard bpfleet_capabilities_get(&effective, &permitted, &bounding) == 0 else { return nil }
        return (CapabilitySet(rawValue: effective), CapabilitySet(rawValue: permitted), CapabilitySet(rawValue: bounding))
    }
}

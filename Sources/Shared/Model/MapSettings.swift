/// What a load may set of one map of an object before the kernel creates
/// it (`probe.load`'s `maps`, docs/protocol.md "Map settings"). Each field
/// left out keeps what the object declares.
public struct MapSettings: Codable, Sendable, Hashable {
    /// The map's `max_entries`: entries of a hash or array, bytes of a
    /// ring buffer (a power-of-two multiple of the page size), CPUs of a
    /// perf event array.
    public var maxEntries: UInt32?
    /// The value size in bytes, for maps whose value has no BTF type (a
    /// stack trace map's `value_size` is its depth times 8).
    public var valueSize: UInt32?
    /// The NUMA node the kernel allocates the map on (an online node).
    public var numaNode: UInt32?
    /// How the map is pinned: `"probe"`, the only way, under the probe's
    /// own directory, whatever the object declares (`LIBBPF_PIN_BY_NAME`
    /// is not followed; docs/protocol.md, "Map settings").
    public var pinning: String?

    public init(maxEntries: UInt32? = nil, valueSize: UInt32? = nil, numaNode: UInt32? = nil, pinning: String? = nil) {
        self.maxEntries = maxEntries
        self.valueSize = valueSize
        self.numaNode = numaNode
        self.pinning = pinning
    }

    /// True when nothing is set.
    public var isEmpty: Bool { maxEntries == nil && valueSize == nil && numaNode == nil && pinning == nil }
}

import BpfleetShared
import Foundation

/// Checks `probe.load`'s `maps` against the object's maps before any
/// kernel work (docs/protocol.md, "Map settings"): every setting names a
/// map of the object and suits its type, and every map the object leaves
/// unsized (`max_entries` 0, the libbpf-tools habit of sizing at load) is
/// sized. Pure: the object's description, the page size and the online
/// NUMA nodes come in.
struct MapSettingsCheck: Sendable {
    var maps: [MapDescription]
    var pageSize: UInt32
    /// Nodes the kernel may allocate on (/sys/devices/system/node/online).
    var numaNodes: Set<UInt32>

    /// Types that take `max_entries` 0 and no size: the kernel keeps one
    /// value per socket, inode, task or cgroup.
    static let sizedByKernel: Set<String> = [
        "cgroup_storage", "percpu_cgroup_storage", "sk_storage", "inode_storage", "task_storage", "cgrp_storage",
    ]
    /// Types whose `max_entries` is a byte size: a power-of-two multiple of the page size.
    static let ringBuffers: Set<String> = ["ringbuf", "user_ringbuf"]
    /// Types libbpf sizes when the object says 0: one slot per possible CPU.
    static let sizedByLibbpf: Set<String> = ["perf_event_array"]
    /// Types whose value is a kernel object's descriptor or id, a fixed size.
    static let fixedValue: Set<String> = [
        "perf_event_array", "prog_array", "array_of_maps", "hash_of_maps", "cgroup_array", "devmap", "devmap_hash",
        "cpumap", "xskmap", "sockmap", "sockhash", "reuseport_sockarray", "ringbuf", "user_ringbuf", "struct_ops",
    ]
    /// Most NUMA nodes a kernel has (MAX_NUMNODES with NODES_SHIFT 10).
    static let maxNUMANodes: UInt32 = 1024

    init(maps: [MapDescription], pageSize: UInt32 = Self.systemPageSize, numaNodes: Set<UInt32> = Self.onlineNUMANodes()) {
        self.maps = maps
        self.pageSize = max(pageSize, 1)
        self.numaNodes = numaNodes
    }

    /// Each problem is -32602 naming the field (`maps.NAME.FIELD`) and the map.
    func check(_ settings: [String: MapSettings]?) throws(ResponseError) {
        let settings = settings ?? [:]
        for (name, setting) in settings.sorted(by: { $0.key < $1.key }) {
            guard let map = maps.first(where: { $0.name == name }) else {
                throw Self.problem("maps.\(name)", map: name,
                                   "the object has no map '\(name)' (maps: \(maps.map(\.name).joined(separator: ", ")))")
            }
            guard !setting.isEmpty else {
                throw Self.problem("maps.\(name)", map: name, "set maxEntries, valueSize, numaNode or pinning, or leave the map out")
            }
            if let pinning = setting.pinning, pinning != "probe" {
                throw Self.problem("maps.\(name).pinning", map: name,
                                   "'\(pinning)' is not a pinning bpfleetd has: every map of a probe is pinned under the probe's directory (\"probe\"); sharing a map between probes by a pin name is not supported")
            }
            try check(setting, of: map)
        }
        let unsized = maps.filter { map in
            map.maxEntries == 0 && settings[map.name]?.maxEntries == nil
                && !Self.sizedByKernel.contains(map.type) && !Self.sizedByLibbpf.contains(map.type) && !map.name.hasPrefix(".")
        }
        if let map = unsized.first {
            let others = unsized.dropFirst().map(\.name)
            let field = "maps.\(map.name).maxEntries"
            throw ResponseError(
                .invalidParams,
                "\(field): map '\(map.name)' (\(map.type)) is declared with max_entries 0: its size is left to the loader; set \(field) (--map-size \(map.name)=N)"
                    + (others.isEmpty ? "" : "; also left unsized: \(others.joined(separator: ", "))"),
                data: ["field": .string(field), "map": .string(map.name), "unsized": .array(unsized.map { .string($0.name) })])
        }
    }

    private func check(_ setting: MapSettings, of map: MapDescription) throws(ResponseError) {
        let name = map.name
        if name.hasPrefix("."), setting.maxEntries != nil || setting.valueSize != nil {
            throw Self.problem("maps.\(name)", map: name,
                               "'\(name)' holds the object's global variables: its size is theirs (set them through globals)")
        }
        if let entries = setting.maxEntries {
            let field = "maps.\(name).maxEntries"
            if Self.sizedByKernel.contains(map.type) {
                throw Self.problem(field, map: name, "map '\(name)' is \(map.type): the kernel keeps one value per object, it takes no size")
            }
            guard entries > 0 else { throw Self.problem(field, map: name, "\(field) must be at least 1") }
            if Self.ringBuffers.contains(map.type) {
                let valid = entries >= pageSize && entries.nonzeroBitCount == 1
                if !valid {
                    let up = Self.powerOfTwo(atLeast: max(UInt64(entries), UInt64(pageSize)))
                    let fits = up <= UInt64(UInt32.max) ? " (the next that is: \(up))" : ""
                    throw Self.problem(field, map: name,
                                       "map '\(name)' is a \(map.type): its size in bytes must be a power of two and a multiple of the page size, \(pageSize)\(fits)")
                }
            }
        }
        if let size = setting.valueSize {
            let field = "maps.\(name).valueSize"
            guard size > 0 else { throw Self.problem(field, map: name, "\(field) must be at least 1") }
            if Self.fixedValue.contains(map.type) || Self.sizedByKernel.contains(map.type) {
                throw Self.problem(field, map: name, "map '\(name)' is a \(map.type): its value size is set by its type")
            }
            if let type = map.valueType {
                throw Self.problem(field, map: name,
                                   "map '\(name)' has the value type '\(type)' (\(map.valueSize) bytes) in BTF: its size is the type's")
            }
            if map.type == "stack_trace", size % 8 != 0 {
                throw Self.problem(field, map: name, "map '\(name)' is a stack_trace map: its value size is the stack depth times 8")
            }
        }
        if let node = setting.numaNode {
            let field = "maps.\(name).numaNode"
            if Self.sizedByKernel.contains(map.type) || name.hasPrefix(".") {
                throw Self.problem(field, map: name, "map '\(name)' (\(map.type)) cannot be placed on a NUMA node")
            }
            guard node < Self.maxNUMANodes, numaNodes.contains(node) else {
                let online = numaNodes.sorted().map(String.init).joined(separator: ", ")
                throw Self.problem(field, map: name, "NUMA node \(node) is not online on this node (online: \(online.isEmpty ? "none" : online))")
            }
        }
    }

    static func problem(_ field: String, map: String, _ message: String) -> ResponseError {
        ResponseError(.invalidParams, message.hasPrefix(field) ? message : "\(field): \(message)",
                      data: ["field": .string(field), "map": .string(map)])
    }

    static func powerOfTwo(atLeast value: UInt64) -> UInt64 {
        var power: UInt64 = 1
        while power < value, power < 1 << 62 { power <<= 1 }
        return power
    }

    static var systemPageSize: UInt32 { UInt32(clamping: max(sysconf(Int32(_SC_PAGESIZE)), 1)) }

    /// The online NUMA nodes, from a list like `0` or `0-1,4`; node 0 alone
    /// when the kernel has no NUMA (no such file).
    static func onlineNUMANodes(_ path: String = "/sys/devices/system/node/online") -> Set<UInt32> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [0] }
        return parseNodeList(text)
    }

    static func parseNodeList(_ text: String) -> Set<UInt32> {
        var nodes: Set<UInt32> = []
        for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).map { UInt32($0) }
            guard let low = bounds.first ?? nil else { continue }
            let high = bounds.count == 2 ? (bounds[1] ?? low) : low
            guard low <= high, high < maxNUMANodes else { continue }
            nodes.formUnion(low...high)
        }
        return nodes
    }
}

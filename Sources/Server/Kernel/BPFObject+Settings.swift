import BpfleetShared
import CLibBPF
import Glibc

extension BPFObject {
    /// Applies a load's map settings (checked already by `MapSettingsCheck`)
    /// between open and load, by the name operators use
    /// (`displayName`). A NUMA node also sets `BPF_F_NUMA_NODE`, without
    /// which the kernel ignores it.
    func apply(_ settings: [String: MapSettings]) throws(KernelError) {
        guard !settings.isEmpty else { return }
        for map in maps {
            let name = Self.displayName(map)
            guard let wanted = settings[name] else { continue }
            func set(_ field: String, _ result: Int32) throws(KernelError) {
                guard result == 0 else {
                    throw .invalidField("maps.\(name).\(field): libbpf refused the setting (\(errnoName(-result)))", field: "maps.\(name).\(field)")
                }
            }
            if let entries = wanted.maxEntries { try set("maxEntries", bpf_map__set_max_entries(map, entries)) }
            if let size = wanted.valueSize { try set("valueSize", bpf_map__set_value_size(map, size)) }
            if let node = wanted.numaNode {
                try set("numaNode", bpf_map__set_numa_node(map, node))
                try set("numaNode", bpf_map__set_map_flags(map, bpf_map__map_flags(map) | UInt32(BPF_F_NUMA_NODE)))
            }
        }
    }

    /// Forgets the pinning an object declares (`LIBBPF_PIN_BY_NAME`): libbpf
    /// would pin such a map under /sys/fs/bpf itself, outside the probe's
    /// pin directory, and take over whatever map is pinned there by that
    /// name. bpfleetd pins every map of a probe under the probe's directory.
    func dropDeclaredPinning() {
        for map in maps where bpf_map__pin_path(map) != nil {
            _ = bpf_map__set_pin_path(map, nil)
        }
    }
}

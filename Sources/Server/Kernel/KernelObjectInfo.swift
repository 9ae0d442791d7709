import CLibBPF
import Glibc

/// What the kernel says of a loaded program (`bpf_prog_info`).
struct ProgramInfo {
    var id: UInt32
    var tag: String
    var verifiedInstructions: UInt32
    var instructions: UInt32
    var runCount: UInt64
    var runTimeNs: UInt64
    /// The BTF the program was loaded with (0: none).
    var btfID: UInt32

    init?(fd: Int32) {
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        guard fd >= 0, bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { return nil }
        id = info.id
        tag = withUnsafeBytes(of: info.tag) { Hex.encode($0) }
        verifiedInstructions = info.verified_insns
        instructions = info.xlated_prog_len / 8
        runCount = info.run_cnt
        runTimeNs = info.run_time_ns
        btfID = info.btf_id
    }
}

/// What the kernel says of a map (`bpf_map_info`).
struct MapInfo {
    var id: UInt32
    var type: bpf_map_type
    var name: String
    var keySize: UInt32
    var valueSize: UInt32
    var maxEntries: UInt32
    var btfID: UInt32
    var btfKeyTypeID: UInt32
    var btfValueTypeID: UInt32

    init?(fd: Int32) {
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        guard fd >= 0, bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { return nil }
        id = info.id
        type = bpf_map_type(rawValue: info.type)
        name = withUnsafeBytes(of: info.name) { bytes in
            String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        keySize = info.key_size
        valueSize = info.value_size
        maxEntries = info.max_entries
        btfID = info.btf_id
        btfKeyTypeID = info.btf_key_type_id
        btfValueTypeID = info.btf_value_type_id
    }
}

extension MapInfo {
    /// Whether the map is an array (its keys are `__u32` indices).
    var isArray: Bool { type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY }
    /// Whether the map is a stack trace map (its values are addresses).
    var isStackTrace: Bool { type == BPF_MAP_TYPE_STACK_TRACE }
}

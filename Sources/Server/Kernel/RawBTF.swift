import CBPFSupport
import CLibBPF

/// A `.BTF` section's bytes parsed by libbpf on their own, without an
/// object (the BTF fuzz target reads them). Owns the parsed BTF: freed when
/// this dies.
final class RawBTF {
    private let handle: OpaquePointer

    /// nil when libbpf's parser refuses the bytes.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty, bytes.count <= Int(UInt32.max) else { return nil }
        bpfleet_libbpf_messages_reset()
        guard let handle = btf__new(base, UInt32(bytes.count)) else { return nil }
        self.handle = handle
    }

    deinit {
        btf__free(handle)
    }

    /// A reader of these types; valid while this lives.
    var reader: BTFReader { BTFReader(btf: handle) }

    /// The number of type ids, the void type (0) included.
    var typeCount: UInt32 { btf__type_cnt(handle) }

    /// The name type `id` has in the string section, as libbpf reads it.
    func name(of id: UInt32) -> String? {
        guard let type = btf__type_by_id(handle, id), let name = btf__name_by_offset(handle, type.pointee.name_off) else { return nil }
        return String(cString: name)
    }
}

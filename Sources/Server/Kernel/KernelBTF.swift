import CLibBPF

/// BTF read back from the kernel by its id (the BTF a program or map was
/// loaded with), which the kernel checked when it was loaded. Owns libbpf's
/// copy; `reader` resolves its types.
final class KernelBTF: @unchecked Sendable {
    let handle: OpaquePointer
    let reader: BTFReader

    init?(id: UInt32) {
        guard id != 0, let btf = btf__load_from_kernel_by_id(id) else { return nil }
        handle = btf
        reader = BTFReader(btf: btf)
    }

    deinit {
        btf__free(handle)
    }
}

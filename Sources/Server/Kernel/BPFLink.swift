import CLibBPF
import Glibc

/// An attachment (`struct bpf_link *`). Owns it: deinit destroys the link,
/// which detaches it unless a pin still holds it in bpffs.
final class BPFLink: @unchecked Sendable {
    let handle: OpaquePointer

    init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        bpf_link__destroy(handle)
    }

    var fd: Int32 { bpf_link__fd(handle) }

    /// The kernel's link id, as `bpftool link show` prints it.
    var kernelID: UInt32 {
        var info = bpf_link_info()
        var length = UInt32(MemoryLayout<bpf_link_info>.size)
        guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { return 0 }
        return info.id
    }

    func pin(at path: String) -> Int32 {
        bpf_link__pin(handle, path)
    }

    func unpin() {
        _ = bpf_link__unpin(handle)
    }
}

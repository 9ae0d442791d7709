import CLibBPF
import Glibc

/// One file descriptor with one owner: closed when this dies. Holds the
/// kernel objects bpfleetd reaches through a pin (`bpf_obj_get`) rather
/// than through a libbpf object that would own them.
final class OwnedDescriptor: @unchecked Sendable {
    let fd: Int32

    init(_ fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }
}

extension OwnedDescriptor {
    /// The kernel object pinned at `path` (`bpf_obj_get`), or nil with
    /// errno set.
    convenience init?(pinnedAt path: String) {
        let fd = bpf_obj_get(path)
        guard fd >= 0 else { return nil }
        self.init(fd)
    }
}

import CBPFSupport
import Foundation

/// bpffs (for pins) and tracefs (for tracepoints): found, or mounted when
/// missing, or reported precisely.
enum Filesystems {
    static func isMounted(_ path: String, magic: Int) -> Bool {
        bpfleet_filesystem_type(path) == magic
    }

    static func isBPFFS(_ path: String) -> Bool {
        isMounted(path, magic: 0xcafe_4a11)  // BPF_FS_MAGIC
    }

    /// Where tracefs is, mounting it at /sys/kernel/tracing if it is nowhere.
    static func tracefsPath(mountIfMissing: Bool = false) -> String? {
        let tracefsMagic = 0x7472_6163  // TRACEFS_MAGIC
        for path in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] where isMounted(path, magic: tracefsMagic) {
            return path
        }
        if mountIfMissing, bpfleet_mount("tracefs", "/sys/kernel/tracing", "tracefs") == 0 {
            return "/sys/kernel/tracing"
        }
        return nil
    }

    /// Makes sure `pinRoot` is a directory on bpffs. Mounts bpffs at
    /// /sys/fs/bpf when the pin root is below it and nothing is mounted.
    static func preparePinRoot(_ pinRoot: String) throws {
        var parent = pinRoot
        while !FileManager.default.fileExists(atPath: parent), parent != "/" {
            parent = (parent as NSString).deletingLastPathComponent
        }
        if !isBPFFS(parent), pinRoot.hasPrefix("/sys/fs/bpf"), !isBPFFS("/sys/fs/bpf") {
            if bpfleet_mount("bpf", "/sys/fs/bpf", "bpf") != 0 {
                throw StartupError("bpffs is not mounted at /sys/fs/bpf and mounting it failed: \(String(cString: strerror(errno))) (mount -t bpf bpf /sys/fs/bpf)")
            }
        }
        try makeDirectories(pinRoot)
        guard isBPFFS(pinRoot) else {
            throw StartupError("pin root \(pinRoot) is not on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf, or choose --pin-root under it)")
        }
    }
}

/// A reason bpfleetd cannot start, said so that an operator can fix it.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    /// bpfleetd's exit status: 2, or 78 (EX_CONFIG) for a configuration
    /// that starting again cannot fix (a TLS file that cannot be read or
    /// is not what it should be), which the systemd unit does not restart.
    public var exitStatus: Int32
    public init(_ description: String, exitStatus: Int32 = 2) {
        self.description = description
        self.exitStatus = exitStatus
    }

    public static let configurationExitStatus: Int32 = 78
}

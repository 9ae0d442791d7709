import Foundation
import Testing

/// What a test needs of the machine it runs on, and why it is skipped
/// when the machine does not have it: each is nil when the need is met,
/// else the reason, which the test run prints for every skipped test.
public enum Requirement {
    /// Loading BPF programs: root and a kernel with BTF.
    public static let kernel: String? = {
        if getuid() != 0 { return "loads BPF programs and needs root" }
        if !FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") { return "the kernel has no BTF (/sys/kernel/btf/vmlinux)" }
        return nil
    }()

    /// Starting a bpfleetd that loads nothing: a pin root it can make on
    /// bpffs (root always can; another user when /sys/fs/bpf is writable
    /// to it, as a sticky world-writable bpffs is).
    public static let server: String? = {
        if getuid() == 0 { return nil }
        if access("/sys/fs/bpf", W_OK) != 0 {
            return "starts bpfleetd, whose pin root must be on bpffs: needs root, or /sys/fs/bpf writable to uid \(getuid())"
        }
        return nil
    }()

    /// Running commands as other users (setpriv) or mounting: root.
    public static let root: String? = getuid() == 0 ? nil : "runs commands as other users or mounts: needs root"
}

extension Trait where Self == ConditionTrait {
    /// The test loads BPF programs into the kernel: root and BTF.
    public static var requiresKernel: Self { requiring(Requirement.kernel) }

    /// The test starts real bpfleetd processes but loads nothing: runs as
    /// any user who may make a pin root on bpffs.
    public static var requiresServer: Self { requiring(Requirement.server) }

    /// The test acts as other users (setpriv) or mounts file systems.
    public static var requiresRoot: Self { requiring(Requirement.root) }

    private static func requiring(_ unmet: String?) -> Self {
        .enabled(if: unmet == nil, Comment(rawValue: unmet ?? ""))
    }
}

import CLibBPF
import Glibc

/// Program run counts and run time: the kernel keeps them only while some
/// process holds a BPF_ENABLE_STATS descriptor (or kernel.bpf_stats_enabled
/// is set). bpfleetd holds one for its lifetime unless told not to.
enum RunStatistics {
    nonisolated(unsafe) private(set) static var enabled = false
    nonisolated(unsafe) private static var fd: Int32 = -1

    /// Turns statistics on; false when the kernel refuses.
    @discardableResult
    static func enable() -> Bool {
        if enabled { return true }
        let result = bpf_enable_stats(BPF_STATS_RUN_TIME)
        if result >= 0 {
            fd = result
            enabled = true
        }
        return enabled
    }
}

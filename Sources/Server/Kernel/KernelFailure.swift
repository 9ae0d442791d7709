import Glibc
import CBPFSupport
import CLibBPF

/// The symbolic name of an errno value (`ENOENT`), as errors report it.
func errnoName(_ code: Int32) -> String {
    let name = String(cString: bpfleet_errno_name(code))
    return name.isEmpty ? "E\(code)" : name
}

func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// libbpf reports failures as a negative errno, or NULL with errno set.
@inline(__always)
func currentErrno() -> Int32 { errno }

/// The warnings libbpf printed on this thread since the last reset.
func takeLibbpfMessages() -> String {
    let text = String(cString: bpfleet_libbpf_messages_get())
    bpfleet_libbpf_messages_reset()
    return text.split(separator: "\n").map { line in
        line.hasPrefix("libbpf: ") ? String(line.dropFirst("libbpf: ".count)) : String(line)
    }.joined(separator: "\n")
}

/// Sends what libbpf prints to a per-thread buffer (read by
/// `takeLibbpfMessages`) instead of stderr; once per process.
func captureLibbpfMessages() {
    bpfleet_capture_libbpf_messages()
}

/// libbpf's version, `MAJOR.MINOR`, as node.info reports it.
var libbpfVersion: String { "\(libbpf_major_version()).\(libbpf_minor_version())" }

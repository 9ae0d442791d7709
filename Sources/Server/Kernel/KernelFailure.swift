import BpfleetShared
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

extension ResponseError {
    /// -32010: a kernel call failed.
    static func kernel(_ operation: String, errno code: Int32) -> ResponseError {
        ResponseError(.kernelError, "\(operation) failed: \(errnoText(code)) (\(errnoName(code)))",
                      data: ["errno": .int(Int64(code)), "errnoName": .string(errnoName(code)), "operation": .string(operation)])
    }

    /// -32005: libbpf or libelf could not make sense of the object.
    static func invalidObject(_ message: String, libbpf: String) -> ResponseError {
        var data: [String: JSONValue] = [:]
        if !libbpf.isEmpty { data["libbpf"] = .string(libbpf) }
        let detail = libbpf.split(separator: "\n").last.map { ": \($0)" } ?? ""
        return ResponseError(.invalidObject, message + detail, data: .object(data))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation


/// Every line a node sends a client, written down with the method it
/// answers, when `BPFLEET_WIRE_LOG` names a directory: the test suite sets
/// it, and checks each line against the contract afterwards
/// (scripts/check_wire.py). One file per process, one JSON line per
/// message: `{"method":METHOD,"line":LINE}` for a reply (METHOD null when
/// the request is not known), `{"line":LINE}` for a notification.
public enum WireLog {
    /// Lines longer than this are counted, not copied (a million-entry
    /// snapshot is tens of megabytes): `{"method":METHOD,"skipped":BYTES}`.
    public static let largestLine = 8 << 20

    private static let file: Int32? = {
        guard let directory = ProcessInfo.processInfo.environment["BPFLEET_WIRE_LOG"], !directory.isEmpty else { return nil }
        let fd = open("\(directory)/wire-\(getpid()).jsonl", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        return fd >= 0 ? fd : nil
    }()

    private static let lock = NSLock()

    public static var isOn: Bool { file != nil }

    /// Records one line the node sent.
    public static func record(method: String?, line: some Collection<UInt8>, notification: Bool = false) {
        guard let file else { return }
        var text = Array("{".utf8)
        if !notification {
            text += Array("\"method\":".utf8)
            if let method, let encoded = try? JSONEncoder().encode(method) { text += Array(encoded) } else { text += Array("null".utf8) }
            text += Array(",".utf8)
        }
        if line.count > largestLine {
            text += Array("\"skipped\":\(line.count)}\n".utf8)
        } else {
            text += Array("\"line\":".utf8)
            text += line
            text += Array("}\n".utf8)
        }
        lock.withLock {
            text.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count, let base = raw.baseAddress {
                    let written = write(file, base + offset, raw.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }
}

import BpfleetShared
import Foundation
import NIOConcurrencyHelpers

/// The audit log (`--audit-log`, default STATE_DIR/audit.log): one JSON line
/// per call that changes the node, and per refused call, appended with a
/// single write(2) under a lock before the reply goes out. O_APPEND makes
/// each line land whole even with other writers on the file.
public final class AuditLog: Sendable {
    private let fd: Int32
    private let lock = NIOLock()

    public init(path: String) throws {
        try makeDirectories((path as NSString).deletingLastPathComponent)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StartupError("cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    struct Entry {
        var peer: PeerIdentity
        var role: Role?
        var method: String
        var id: RequestID?
        var targets: [String: JSONValue]
        var outcome: Result<[String: JSONValue], ResponseError>
    }

    func record(_ entry: Entry) {
        var fields: [String: JSONValue] = [
            "time": .string(Self.timestamp()),
            "peer": entry.peer.auditRecord,
            "role": entry.role.map { .string($0.rawValue) } ?? .null,
            "method": .string(entry.method),
            "params": .object(entry.targets),
        ]
        var numberID: String?
        if let id = entry.id {
            switch id {
            case .number(let text): numberID = text  // written as sent, not as a value
            case .string(let text): fields["id"] = .string(text)
            }
        }
        switch entry.outcome {
        case .success(let touched):
            fields["outcome"] = "ok"
            if !touched.isEmpty { fields["result"] = .object(touched) }
        case .failure(let error):
            fields["outcome"] = "error"
            fields["error"] = ["code": .int(Int64(error.code.rawValue)), "message": .string(error.message)]
        }
        var out = JSONWriter(buffer: .init())
        out.object(fields, numbers: numberID.map { ["id": $0] } ?? [:])
        out.byte(UInt8(ascii: "\n"))
        let line = out.buffer
        lock.withLock {
            line.withUnsafeReadableBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }

    /// UTC with milliseconds: lines of one second stay in order when read.
    static func timestamp() -> String {
        let now = Date()
        let millis = Int((now.timeIntervalSince1970 * 1000).truncatingRemainder(dividingBy: 1000))
        let text = WireDate.string(now)
        return String(text.dropLast()) + "." + String(repeating: "0", count: 3 - String(millis).count) + String(millis) + "Z"
    }
}

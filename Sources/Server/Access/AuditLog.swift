import BpfleetShared
import CBPFSupport
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The audit log (`--audit-log`, default STATE_DIR/audit.log): one JSON line
/// per call that changes the node, and per refused call. It never lies
/// (docs/security.md, "Audit log"): a line is written whole or not at all,
/// and a call that changes the node runs only once room for its line is
/// reserved (`reserve`), so that a change made is a change recorded.
public final class AuditLog: Sendable {
    /// The most one line takes, newline included: longer values in it are
    /// cut (`bounded`), and this much is reserved per call in flight.
    static let maxRecordBytes = 16 * 1024
    /// How long an identical failure goes unlogged after it was logged.
    static let quietInterval: Duration = .seconds(10)

    public let path: String
    private let fd: Int32
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    struct State {
        /// Calls that reserved room for their line and have not written it.
        var reserved = 0
        /// False once fallocate said the filesystem cannot preallocate:
        /// free space is checked with fstatvfs instead.
        var canPreallocate = true
        /// Where the blocks preallocated past the end of the file end, and
        /// the file's length when that was known; a shorter file was cut
        /// by someone else, who freed them.
        var preallocatedEnd: Int64 = 0
        var knownLength: Int64 = 0
        /// Set when a torn line could not be cut back: nothing more may
        /// follow it, so every call that changes the node is refused.
        var broken: Failure?
        /// The failure last logged, when, and how many like it were not.
        var lastLogged: (key: String, at: ContinuousClock.Instant, quieted: Int)?
    }

    /// A system call on the audit log that failed, and its errno.
    struct Failure: Error, Sendable {
        var operation: String
        var code: Int32
    }

    public init(path: String, logger: Logger = Logger(label: "bpfleetd")) throws {
        try makeDirectories((path as NSString).deletingLastPathComponent)
        self.path = path
        self.logger = logger
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

    // MARK: Reserving

    /// Reserves room for the line of a call that changes the node, before
    /// it runs. nil: reserved, and the call's `record(_:reserved:)` must
    /// follow. Otherwise the error to refuse the call with: the log cannot
    /// take its line, so it must not run.
    func reserve() -> ResponseError? {
        let failure: Failure? = state.withLockedValue { state in
            if let broken = state.broken { return broken }
            state.reserved += 1
            guard let failure = preallocate(&state) else { return nil }
            state.reserved -= 1
            return failure
        }
        guard let failure else { return nil }
        report(failure, "audit log cannot take a record: refusing calls that change the node")
        return refusal(failure)
    }

    /// Makes sure the file has blocks for the lines of every reserved call
    /// past its end: fallocate(2) keeping its length, or, where the
    /// filesystem cannot, at least that much free space (fstatvfs).
    private func preallocate(_ state: inout State) -> Failure? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return Failure(operation: "fstat", code: errno) }
        let size = Int64(info.st_size)
        if size < state.knownLength { state.preallocatedEnd = size }
        state.knownLength = size
        let length = Int64(state.reserved * Self.maxRecordBytes)
        if state.canPreallocate {
            // Only what is not preallocated yet: a call in a steady stream
            // asks the filesystem for the few bytes the last line took.
            let from = max(size, state.preallocatedEnd)
            guard from < size + length else { return nil }
            let result = bpfleet_preallocate(fd, from, size + length - from)
            if result == 0 {
                state.preallocatedEnd = size + length
                return nil
            }
            guard result == -EOPNOTSUPP || result == -ENOSYS else { return Failure(operation: "fallocate", code: -result) }
            state.canPreallocate = false
            logger.notice("the audit log's filesystem cannot preallocate: free space is checked instead", metadata: ["path": "\(path)"])
        }
        var space = statvfs()
        guard fstatvfs(fd, &space) == 0 else { return Failure(operation: "fstatvfs", code: errno) }
        guard UInt64(space.f_bavail) * UInt64(space.f_frsize) >= UInt64(length) else {
            return Failure(operation: "fstatvfs", code: ENOSPC)
        }
        return nil
    }

    /// -32010 naming the audit log: what a call that changes the node gets
    /// when its line cannot be written.
    func refusal(_ failure: Failure) -> ResponseError {
        let reason = errnoText(failure.code)
        return ResponseError(
            .kernelError, "refused: the audit log \(path) cannot take this call's record: \(reason) (\(errnoName(failure.code))); nothing was changed",
            data: ["auditLog": .string(path), "reason": .string(reason), "errno": .int(Int64(failure.code)),
                   "errnoName": .string(errnoName(failure.code)), "operation": "audit log"])
    }

    // MARK: Recording

    /// Appends the entry's line, whole or not at all. `reserved`: the call
    /// ran after `reserve()`, whose room this gives back; otherwise (a
    /// refused call) room is reserved here first, so that the line cannot
    /// take the room of a call that is running. A line that cannot be
    /// written is logged, with the line when the call ran. Returns whether
    /// the line is in the file.
    @discardableResult
    func record(_ entry: Entry, reserved: Bool = false) -> Bool {
        let line = Self.line(entry)
        let failure: Failure? = state.withLockedValue { state in
            if !reserved {
                if let broken = state.broken { return broken }
                state.reserved += 1
                if let failure = preallocate(&state) {
                    state.reserved -= 1
                    return failure
                }
            }
            state.reserved -= 1
            if let broken = state.broken { return broken }
            guard let failure = append(line, &state) else { return nil }
            // Cutting back freed the room reserved past the end: take it
            // again for the calls still running, if it is there.
            if state.broken == nil, state.reserved > 0 { _ = preallocate(&state) }
            return failure
        }
        guard let failure else { return true }
        if reserved {
            // The call ran: its record must not be lost, so it goes to
            // bpfleetd's own log, every time.
            logger.error("audit record not written: the call ran; its record follows", metadata: [
                "path": "\(path)", "operation": "\(failure.operation)", "error": "\(errnoText(failure.code))",
                "errno": "\(errnoName(failure.code))", "record": "\(String(buffer: line).dropLast())"])
        } else {
            report(failure, "audit record of a refused call not written")
        }
        return false
    }

    /// Writes `line` at the end of the file, or, when it cannot all be
    /// written, cuts off what of it was: a torn line never stays for
    /// another to follow. If even that fails, the log is broken.
    private func append(_ line: ByteBuffer, _ state: inout State) -> Failure? {
        let (written, failed) = line.withUnsafeReadableBytes { Self.writeAll(fd, $0) }
        guard let code = failed else { return nil }
        if written > 0 { cutBack(written, &state) }
        return Failure(operation: "write", code: code)
    }

    /// Removes the last `count` bytes of the file: the part of a line that
    /// was written (O_APPEND put it at the end, whatever the length was).
    /// The truncation frees the room preallocated past the end too.
    private func cutBack(_ count: Int, _ state: inout State) {
        var info = stat()
        var length: Int64 = -1
        var result = fstat(fd, &info)
        if result == 0 {
            length = max(0, Int64(info.st_size) - Int64(count))
            repeat { result = ftruncate(fd, off_t(length)) } while result != 0 && errno == EINTR
        }
        guard result != 0 else {
            state.preallocatedEnd = length
            state.knownLength = length
            return
        }
        let broken = Failure(operation: "ftruncate", code: errno)
        state.broken = broken
        logger.critical("audit log holds a torn line it could not cut back: every call that changes the node is refused until bpfleetd restarts", metadata: [
            "path": "\(path)", "tornBytes": "\(count)", "error": "\(errnoText(broken.code))", "errno": "\(errnoName(broken.code))"])
    }

    /// write(2) until every byte is written: how many were, and nil or the
    /// errno that stopped it (EIO when the kernel wrote nothing and said
    /// nothing).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> (written: Int, failure: Int32?) {
        guard let base = bytes.baseAddress else { return (0, nil) }
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, base + offset, bytes.count - offset)
            if n > 0 {
                offset += n
            } else if n < 0, errno == EINTR {
                continue
            } else {
                return (offset, n < 0 ? errno : EIO)
            }
        }
        return (offset, nil)
    }

    /// Logs a failure at error level, the path and errno text with it; the
    /// same failure again within `quietInterval` is counted, not logged.
    private func report(_ failure: Failure, _ message: Logger.Message) {
        let key = "\(message) \(failure.operation) \(failure.code)"
        let now = ContinuousClock.now
        let quieted: Int? = state.withLockedValue { state in
            if let last = state.lastLogged, last.key == key, now - last.at < Self.quietInterval {
                state.lastLogged?.quieted += 1
                return nil
            }
            let quieted = state.lastLogged?.key == key ? state.lastLogged?.quieted ?? 0 : 0
            state.lastLogged = (key, now, 0)
            return quieted
        }
        guard let quieted else { return }
        var metadata: Logger.Metadata = [
            "path": "\(path)", "operation": "\(failure.operation)", "error": "\(errnoText(failure.code))",
            "errno": "\(errnoName(failure.code))"]
        if quieted > 0 { metadata["repeatedUnlogged"] = "\(quieted)" }
        logger.error(message, metadata: metadata)
    }

    // MARK: Lines

    /// The entry as one JSON line, at most `maxRecordBytes`.
    static func line(_ entry: Entry) -> ByteBuffer {
        var fields: [String: JSONValue] = [
            "time": .string(Self.timestamp()),
            "peer": entry.peer.auditRecord,
            "role": entry.role.map { .string($0.rawValue) } ?? .null,
            "method": .string(entry.method),
            "params": .object(entry.targets),
        ]
        // A number id is written as sent (its text), not as a value; the
        // reader bounds that text to 1,024 characters.
        var numbers: [String: String] = [:]
        if let id = entry.id {
            switch id {
            case .number(let text): numbers["id"] = text
            case .string(let text): fields["id"] = .string(text)
            }
        }
        switch entry.outcome {
        case .success(let touched):
            fields["outcome"] = "ok"
            if !touched.isEmpty { fields["result"] = .object(touched) }
        case .failure(let error):
            fields["outcome"] = "error"
            var recorded: [String: JSONValue] = ["code": .int(Int64(error.code.rawValue)), "message": .string(error.message)]
            // What an object policy found missing: who signed, who did not.
            if case .object(let data)? = error.data, let policy = data["policy"] { recorded["policy"] = policy }
            fields["error"] = .object(recorded)
        }
        let whole = terminated(fields, numbers: numbers)
        guard whole.readableBytes > maxRecordBytes else { return whole }
        let cut = terminated(bounded(fields), numbers: numbers)
        guard cut.readableBytes > maxRecordBytes else { return cut }
        // Not reached (`bounded` keeps every field small); still, a line.
        return terminated(["time": fields["time"] ?? .null, "method": .string(String(entry.method.prefix(64))),
                           "outcome": fields["outcome"] ?? .null, "truncated": true], numbers: [:])
    }

    /// The fields (and the numbers written as their text) as one JSON
    /// object, keys sorted, and the newline that ends a line.
    private static func terminated(_ fields: [String: JSONValue], numbers: [String: String]) -> ByteBuffer {
        var out = JSONWriter(buffer: .init())
        out.object(fields, numbers: numbers)
        out.byte(UInt8(ascii: "\n"))
        return out.buffer
    }

    /// A record's fields cut to fit a line: every member of `peer`,
    /// `params` and `result`, the `id` and the error's message to 1 KiB,
    /// then `peer`, `params` and `result` to 4 KiB each (`cut(_:to:)`), and
    /// `"truncated": true`. The other fields are short by construction, so
    /// the line stays well under `maxRecordBytes`.
    static func bounded(_ fields: [String: JSONValue]) -> [String: JSONValue] {
        var fields = fields
        for name in ["peer", "params", "result"] {
            guard let value = fields[name] else { continue }
            if case .object(let members) = value {
                fields[name] = cut(.object(members.mapValues { cut($0, to: 1024) }), to: 4096)
            } else {
                fields[name] = cut(value, to: 4096)
            }
        }
        if let id = fields["id"] { fields["id"] = cut(id, to: 1024) }
        if case .object(var error)? = fields["error"], let message = error["message"] {
            error["message"] = cut(message, to: 1024)
            fields["error"] = .object(error)
        }
        fields["method"] = fields["method"].map { cut($0, to: 256) }
        fields["truncated"] = true
        return fields
    }

    /// `value` when its JSON is at most `limit` bytes; else a string's
    /// first `limit / 8` characters and "…" (a character is at most 6
    /// bytes of JSON), or `{"omittedBytes": N}` for anything else.
    static func cut(_ value: JSONValue, to limit: Int) -> JSONValue {
        let size = encode(value).readableBytes
        guard size > limit else { return value }
        if case .string(let text) = value {
            return .string(String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit / 8))) + "…")
        }
        return ["omittedBytes": .int(Int64(size))]
    }

    /// `value` as JSON.
    private static func encode(_ value: JSONValue) -> ByteBuffer {
        var out = JSONWriter(buffer: .init())
        out.value(value)
        return out.buffer
    }

    /// UTC with milliseconds: lines of one second stay in order when read.
    static func timestamp() -> String {
        let now = Date()
        let millis = Int((now.timeIntervalSince1970 * 1000).truncatingRemainder(dividingBy: 1000))
        let text = WireDate.string(now)
        return String(text.dropLast()) + "." + String(repeating: "0", count: 3 - String(millis).count) + String(millis) + "Z"
    }
}

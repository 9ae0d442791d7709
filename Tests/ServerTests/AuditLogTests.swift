@testable import BpfleetServer
import BpfleetShared
import Foundation
import TestSupport
import Testing

/// The audit log's lines: bounded in size, and written whole or not at all.
@Suite("AuditLog")
struct AuditLogTests {
    static let peer = PeerIdentity.unix(uid: 0, gid: 0, pid: 1, groups: [])

    static func entry(_ id: Int64, targets: [String: JSONValue] = ["probe": "p"],
                      result: [String: JSONValue] = [:]) -> AuditLog.Entry {
        AuditLog.Entry(peer: peer, role: .operator, method: "probe.unload", id: .number(String(id)), targets: targets, outcome: .success(result))
    }

    /// A line's JSON, without its newline.
    static func parsed(_ line: some BidirectionalCollection<UInt8>) throws -> JSONValue {
        #expect(line.last == UInt8(ascii: "\n"))
        return try JSONDecoder().decode(JSONValue.self, from: Data(line.dropLast()))
    }

    @Test func aShortRecordIsWrittenAsItIs() throws {
        let line = AuditLog.line(Self.entry(7, targets: ["map": "p/m", "key": 42]))
        let record = try Self.parsed(line.readableBytesView)
        #expect(record["params"] == ["map": "p/m", "key": 42])
        #expect(record["id"] == 7)
        #expect(record["outcome"] == "ok")
        #expect(record["truncated"] == nil)
    }

    @Test func anOversizedRecordIsCutToTheBoundAndStillParses() throws {
        let huge = String(repeating: "k", count: 100_000)
        let entry = AuditLog.Entry(
            peer: .certificate(subject: "CN=" + huge, commonName: nil, subjectAlternativeNames: Array(repeating: "san", count: 5000)),
            role: .operator, method: "map.update", id: .string(huge),
            targets: ["map": "p/m", "key": .array(Array(repeating: 1, count: 50_000)), "name": .string(huge)],
            outcome: .failure(ResponseError(.conflict, huge)))
        let line = AuditLog.line(entry)
        #expect(line.readableBytes <= AuditLog.maxRecordBytes)
        let record = try Self.parsed(line.readableBytesView)
        #expect(record["truncated"] == true)
        #expect(record["method"] == "map.update")
        #expect(record["outcome"] == "error")
        #expect(record["error"]?["code"] == -32004)
        // Short values stay; a long string keeps its start, a long array or object its size.
        #expect(record["params"]?["map"] == "p/m")
        let start: JSONValue = .string(String(repeating: "k", count: 128) + "…")
        let keyBytes: JSONValue = ["omittedBytes": .int(Int64(2 * 50_000 + 1))]
        let sansBytes: JSONValue = .int(Int64(5000 * 6 + 1))
        #expect(record["params"]?["key"] == keyBytes)
        #expect(record["params"]?["name"] == start)
        #expect(record["id"] == start)
        #expect(record["error"]?["message"] == start)
        #expect(record["peer"]?["transport"] == "tls")
        #expect(record["peer"]?["sans"]?["omittedBytes"] == sansBytes)
    }

    /// The short write bpfleetd's reservation exists to prevent, made to
    /// happen: on a tmpfs of 8 pages, the room reserved past the end is
    /// freed under bpfleetd (a truncate to the file's own length frees it)
    /// and a filler takes every free page. A line longer than what is left
    /// of the log's last page is then written in part and refused (ENOSPC):
    /// the log is cut back to the line before it. While the disk is full a
    /// reservation is refused naming the log; with room again, the next
    /// line follows the first.
    @Test(.requiresRoot) func aLineThatDoesNotFitIsCutBackWhole() throws {
        let directory = NSTemporaryDirectory() + "bpfleet-auditlog-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { rmdir(directory) }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let mounted = "size=\(8 * pageSize)".withCString { mount("tmpfs", directory, "tmpfs", 0, $0) }
        guard mounted == 0 else { throw TestError("mount tmpfs on \(directory): \(String(cString: strerror(errno)))") }
        defer { if umount(directory) != 0 { umount2(directory, Int32(MNT_DETACH)) } }
        let path = directory + "/audit.log"
        try Self.writeRecords(path: path, filler: directory + "/filler", pageSize: pageSize)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let ids = try text.split(separator: "\n").map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))["id"] }
        #expect(ids == [1, 3])
    }

    /// The steps of the test above; the log is closed when this returns,
    /// so that the tmpfs can be unmounted.
    static func writeRecords(path: String, filler: String, pageSize: Int) throws {
        let log = try AuditLog(path: path)
        #expect(log.record(entry(1)))
        let first = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(log.reserve() == nil)
        #expect(truncate(path, off_t(first.count)) == 0)
        try fill(filler)
        defer { unlink(filler) }
        // Members under 1 KiB each: never cut, and together longer than
        // the room left in the last page.
        let members = Dictionary(uniqueKeysWithValues: (0..<3).map { ("m\($0)", JSONValue.string(String(repeating: "v", count: 900))) })
        let long = entry(2, targets: members, result: members)
        let longLine = AuditLog.line(long)
        #expect(longLine.readableBytes > pageSize - first.count % pageSize)
        #expect(try parsed(longLine.readableBytesView)["truncated"] == nil)
        #expect(!log.record(long, reserved: true))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == first)

        let refusal = try #require(log.reserve())
        #expect(refusal.code == .kernelError)
        #expect(refusal.data == ["auditLog": .string(path), "reason": "No space left on device", "errno": .int(Int64(ENOSPC)),
                                 "errnoName": "ENOSPC", "operation": "audit log"])
        #expect(!log.record(entry(4)))  // a refused call's line: no room, not written
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == first)

        unlink(filler)
        #expect(log.record(entry(3)))
    }

    /// Writes to `path` until the filesystem has no room left (ENOSPC).
    static func fill(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw TestError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x2E, count: 512)
        var written = 0
        repeat {
            written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        } while written > 0
        let code = errno
        guard code == ENOSPC else { throw TestError("filling \(path) stopped with \(String(cString: strerror(code)))") }
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

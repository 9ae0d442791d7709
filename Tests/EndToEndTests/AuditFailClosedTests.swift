import BpfleetShared
import Foundation
import TestSupport
import Testing

/// The audit log on a full disk (docs/security.md, "Audit log"): a call
/// that changes the node is refused rather than made unrecorded, reads go
/// on, and the log never holds a torn line.
@Suite(.requiresKernel)
struct AuditFailClosedTests {
    @Test func aFullAuditDiskRefusesChangesAndKeepsEveryLineWhole() async throws {
        let files = try temporaryDirectory("audit-full")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let viewer: UInt32 = 54_325
        try "root: operator\nviewers:\n  uids: [\(viewer)]\n".write(toFile: files + "/roles.yaml", atomically: true, encoding: .utf8)
        let disk = try SmallDisk.mount(size: "64k")
        defer { disk.unmount() }
        let audit = disk.path + "/audit.log"
        try await withServer(["--audit-log", audit, "--roles", files + "/roles.yaml", "--socket-group", String(viewer)]) { server in
            let client = try server.client()
            try client.load("big_hash", as: "big")
            let map: JSONValue = ["probe": "big", "name": "big"]
            #expect(try auditLines(audit).map { $0["method"] } == ["object.upload", "probe.load"])

            try disk.fill()
            defer { disk.free() }
            // The room reserved past the log's end (16 KiB) takes a few more
            // lines; the first update the log cannot take is refused.
            var made: [Int64] = []
            var refusal: (key: Int64, error: JSONValue)?
            for key in Int64(1)...200 {
                let reply = try client.request("map.update", ["map": map, "key": .int(key), "value": 7])
                if let error = reply["error"] {
                    refusal = (key, error)
                    break
                }
                #expect(reply["result"] == [:])
                made.append(key)
            }
            let (refusedKey, error) = try #require(refusal)
            #expect(error["code"] == -32010)
            #expect(error["data"] == ["auditLog": .string(audit), "reason": "No space left on device", "errno": .int(Int64(ENOSPC)),
                                      "errnoName": "ENOSPC", "operation": "audit log"])
            #expect(error["message"] == .string(
                "refused: the audit log \(audit) cannot take this call's record: No space left on device (ENOSPC); nothing was changed"))
            // A delete is refused the same way, and changes nothing either.
            #expect(try client.callError("map.delete", ["map": map, "key": 1]).code == .kernelError)

            // Nothing was changed, as bpfleetd and bpftool see the map; reads go on.
            #expect(try client.callError("map.lookup", ["map": map, "key": .int(refusedKey)]).code == .notFound)
            for key in made { #expect(try client.call("map.lookup", ["map": map, "key": .int(key)])["value"] == 7) }
            let release = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try client.call("node.info")["kernelRelease"] == .string(release))
            let mapID = try #require(try client.call("map.list", ["probe": "big"])["maps"]?.arrayValue
                .first { $0["name"] == "big" }?["id"]?.uint64Value).asUInt32
            let keys = try Bpftool.dump(mapID: mapID).map { ($0["key"] as? [String])?.map { $0.dropFirst(2) }.joined() }
            #expect(Set(keys) == Set(made.map { littleEndianHex(UInt32($0)) }))

            // A viewer's refused update is refused for its role (-32002);
            // its line has no room either, and bpfleetd says so.
            let denied = try bpfleet(["-n", server.address, "-o", "json", "map", "update", "big", "big", "9", "1"], as: viewer)
            let deniedReply = try JSONDecoder().decode(JSONValue.self, from: Data(denied.stdout.utf8)).arrayValue.first
            #expect(deniedReply?["error"]?["code"] == -32002)

            // Every line whole, one per change made: none for the refused ones.
            let text = try String(contentsOfFile: audit, encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            let lines = try auditLines(audit)
            #expect(lines.count == 2 + made.count)
            #expect(lines.dropFirst(2).compactMap { $0["params"]?["key"]?.int64Value } == made)
            #expect(lines.dropFirst(2).allSatisfy { $0["method"] == "map.update" && $0["outcome"] == "ok" })
            let log = server.log
            #expect(log.contains("audit log cannot take a record: refusing calls that change the node"))
            #expect(log.contains("audit record of a refused call not written"))
            #expect(log.contains(audit))
            #expect(log.contains("No space left on device"))

            // Room again: the change is made, and recorded.
            disk.free()
            #expect(try client.call("map.update", ["map": map, "key": .int(refusedKey), "value": 8]) == [:])
            #expect(try client.call("map.lookup", ["map": map, "key": .int(refusedKey)])["value"] == 8)
            let after = try auditLines(audit)
            #expect(after.count == 2 + made.count + 1)
            #expect(after.last?["method"] == "map.update")
            #expect(after.last?["params"]?["key"] == .int(refusedKey))
            #expect(after.last?["outcome"] == "ok")
        }
    }

    /// A u32 as bpftool prints its bytes, joined: 7 is "07000000".
    func littleEndianHex(_ value: UInt32) -> String {
        withUnsafeBytes(of: value.littleEndian) { $0.map { String(format: "%02x", $0) }.joined() }
    }
}

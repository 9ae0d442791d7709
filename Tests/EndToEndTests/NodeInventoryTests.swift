import BpfleetShared
import Foundation
import TestSupport
import Testing

/// node.programs, node.maps and node.links: everything in the kernel, made
/// by bpfleetd, by a libbpf program of the test's own and by bpftool, each
/// with the ids, owner and holders bpftool and /proc agree on; and maps
/// bpfleet does not own, read only where the node allows it.
@Suite(.requiresKernel)
struct NodeInventoryTests {
    /// A bpffs directory for bpftool's pins, removed with what it holds.
    final class BpftoolPins {
        let directory = "/sys/fs/bpf/bpfleet-test-inventory-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false) }
        deinit { try? FileManager.default.removeItem(atPath: directory) }

        func pinnedID(_ kind: String, _ name: String) throws -> UInt32 {
            let result = try run(Bpftool.path, ["-j", kind, "show", "pinned", directory + "/" + name])
            let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
            guard let id = (object?["id"] as? NSNumber)?.uint32Value else { throw TestFailure("bpftool shows no \(kind) pinned at \(name)") }
            return id
        }
    }

    static func byID(_ list: JSONValue?) -> [UInt32: JSONValue] {
        var result: [UInt32: JSONValue] = [:]
        for item in list?.arrayValue ?? [] {
            if let id = item["id"]?.uint64Value, let exact = UInt32(exactly: id) { result[exact] = item }
        }
        return result
    }

    static func holder(_ pid: Int32, _ comm: String) -> JSONValue {
        ["pid": .int(Int64(pid)), "comm": .string(comm)]
    }

    @Test func everyProgramMapAndLinkWithItsOwnerAndHolders() async throws {
        let holder = try ForeignHolder.start()
        defer { holder.stop() }
        let pins = try BpftoolPins()
        _ = try mustRun(Bpftool.path, ["prog", "load", TestEnvironment.programPath("foreign_counter"), pins.directory + "/prog"])
        _ = try mustRun(Bpftool.path, ["map", "create", pins.directory + "/map", "type", "array", "key", "4", "value", "8",
                                       "entries", "4", "name", "bpfleet_tmap"])
        let pinnedProgram = try pins.pinnedID("prog", "prog")
        let pinnedMap = try pins.pinnedID("map", "map")

        try await withServer { server in
            let client = try server.client()
            let loaded = try client.load("exec_count", as: "execs")
            let link = try client.call("probe.attach", ["probe": "execs", "program": "count_exec", "target": ["type": "auto"]])
            let ownProgram = try #require(loaded["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
            let ownLink = try #require(link["id"]?.uint64Value).asUInt32
            let ownMaps = Dictionary(uniqueKeysWithValues: try client.call("map.list", ["probe": "execs"])["maps"]?.arrayValue
                .compactMap { map -> (UInt32, String)? in
                    guard let id = map["id"]?.uint64Value, let name = map["name"]?.stringValue else { return nil }
                    return (UInt32(truncatingIfNeeded: id), name)
                } ?? [])
            #expect(ownMaps.count == 2)
            let bpfleetd = Self.holder(server.pid, "bpfleetd")
            let foreign = Self.holder(holder.pid, ForeignHolder.comm)

            // Programs.
            let programs = Self.byID(try client.call("node.programs")["programs"])
            let held = try #require(programs[holder.programID])
            #expect(held["type"] == "tracepoint")
            #expect(held["name"] == "count_getppid")
            #expect(held["owner"] == nil)
            #expect(held["holders"] == [foreign])
            #expect(held["mapIds"] == [.int(Int64(holder.mapID))])
            #expect(held["linkIds"] == [.int(Int64(holder.linkID))])
            #expect(held["attachPoints"] == ["tracepoint sys_enter_getppid"])
            let witness = try #require(try Bpftool.show("prog", id: holder.programID))
            #expect(held["tag"]?.stringValue == witness["tag"] as? String)
            #expect(held["uid"] == 0)
            let pinned = try #require(programs[pinnedProgram])
            #expect(pinned["name"] == "count_getppid")
            #expect(pinned["owner"] == nil)
            #expect(pinned["holders"] == [])  // kept by its pin alone
            #expect(pinned["linkIds"] == [])
            let own = try #require(programs[ownProgram])
            #expect(own["owner"] == ["probe": "execs", "name": "count_exec"])
            #expect(own["holders"]?.arrayValue.contains(bpfleetd) == true)
            #expect(own["linkIds"] == [.int(Int64(ownLink))])
            #expect(Set(own["mapIds"]?.arrayValue.compactMap { $0.uint64Value.map(UInt32.init(truncatingIfNeeded:)) } ?? []) == Set(ownMaps.keys))

            // Maps.
            let maps = Self.byID(try client.call("node.maps")["maps"])
            let heldMap = try #require(maps[holder.mapID])
            #expect(heldMap["name"] == "foreign_counts")
            #expect(heldMap["type"] == "hash")
            #expect(heldMap["keyType"] == "__u32")
            #expect(heldMap["valueType"] == "struct foreign_value")
            #expect(heldMap["programIds"] == [.int(Int64(holder.programID))])
            #expect(heldMap["holders"] == [foreign])
            #expect(heldMap["owner"] == nil)
            let created = try #require(maps[pinnedMap])
            #expect(created["name"] == "bpfleet_tmap")
            #expect(created["type"] == "array")
            #expect(created["keySize"] == 4)
            #expect(created["valueSize"] == 8)
            #expect(created["maxEntries"] == 4)
            #expect(created["programIds"] == [])
            #expect(created["holders"] == [])
            #expect(created["owner"] == nil)
            for (id, name) in ownMaps {
                #expect(maps[id]?["owner"] == ["probe": "execs", "name": .string(name)])
                #expect(maps[id]?["holders"]?.arrayValue.contains(bpfleetd) == true)
            }

            // Links.
            let links = Self.byID(try client.call("node.links")["links"])
            let heldLink = try #require(links[holder.linkID])
            #expect(heldLink["type"] == "perf_event")
            #expect(heldLink["programId"] == .int(Int64(holder.programID)))
            #expect(heldLink["attachPoint"] == "tracepoint sys_enter_getppid")
            #expect(heldLink["holders"] == [foreign])
            #expect(heldLink["owner"] == nil)
            let ownLinked = try #require(links[ownLink])
            #expect(ownLinked["owner"] == ["probe": "execs", "linkId": link["linkId"]!])
            #expect(ownLinked["programId"] == .int(Int64(ownProgram)))
            #expect(ownLinked["holders"]?.arrayValue.contains(bpfleetd) == true)

            // Without the /proc walk, no holders at all.
            let bare = Self.byID(try client.call("node.links", ["holders": false])["links"])
            #expect(bare[holder.linkID]?["holders"] == nil)
            #expect(bare[holder.linkID]?["attachPoint"] == "tracepoint sys_enter_getppid")

            // The CLI, as JSON and as a table.
            let json = try bpfleet(["-n", server.address, "-o", "json", "node", "links"])
            #expect(json.status == 0)
            let element = try #require(json.json?.arrayValue.first)
            #expect(element["node"] == .string(server.address))
            #expect(Self.byID(element["result"]?["links"])[holder.linkID]?["holders"] == [foreign])
            let table = try bpfleet(["-n", server.address, "node", "programs"])
            #expect(table.status == 0)
            let row = table.stdout.split(separator: "\n").first { $0.hasPrefix("\(holder.programID) ") }
            #expect(row?.contains("tracepoint sys_enter_getppid") == true)
            #expect(row?.contains("\(ForeignHolder.comm)(\(holder.pid))") == true)
            let ownRow = table.stdout.split(separator: "\n").first { $0.hasPrefix("\(ownProgram) ") }
            #expect(ownRow?.contains("execs/count_exec") == true)

            try client.call("probe.unload", ["probe": "execs"])
        }
    }

    @Test func foreignMapsAreReadOnlyForOperatorsWhereTheNodeAllowsItAndAudited() async throws {
        let holder = try ForeignHolder.start()
        defer { holder.stop() }
        let files = try temporaryDirectory("foreign-maps")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let audit = files + "/audit.log"
        let map: JSONValue = ["id": .int(Int64(holder.mapID))]
        let expected: [JSONValue] = (1...5).map { key in
            ["key": .int(Int64(key)), "value": ["hits": .int(Int64(key * 100)), "tag": .int(Int64(key + 7))]]
        }

        try await withServer(["--foreign-maps", "--audit-log", audit]) { server in
            let client = try server.client()
            let snapshot = try client.call("map.snapshot", ["map": map])
            #expect(snapshot["count"] == 5)
            let entries = (snapshot["entries"]?.arrayValue ?? []).sorted { ($0["key"]?.int64Value ?? 0) < ($1["key"]?.int64Value ?? 0) }
            #expect(entries == expected)
            #expect(try client.call("map.lookup", ["map": map, "key": 3]) == expected[2])

            // Writes, and an event stream (which consumes), are refused.
            for (method, params) in [("map.update", ["map": map, "key": 3, "value": ["hits": 1, "tag": 1]] as JSONValue),
                                     ("map.delete", ["map": map, "key": 3]), ("events.subscribe", ["map": map])] {
                let refused = try client.callError(method, params)
                #expect(refused.code == .permissionDenied, "\(method)")
                #expect(refused.data?["foreign"] == true, "\(method)")
                #expect(refused.data?["map"] == .int(Int64(holder.mapID)), "\(method)")
            }
            let untouched = try Bpftool.dump(mapID: holder.mapID)
            #expect(untouched.count == 5)

            // A watch reads it too, and the CLI by --id.
            let watch = try client.call("map.watch", ["map": map, "intervalMs": 100])
            let note = try #require(try client.nextNotification())
            #expect(note["params"]?["subscription"] == watch["subscription"])
            #expect(note["params"]?["entries"]?.arrayValue.count == 5)
            try client.call("subscription.cancel", ["subscription": watch["subscription"]!])
            let dump = try bpfleet(["-n", server.address, "-o", "json", "map", "dump", "--id", String(holder.mapID)])
            #expect(dump.status == 0)
            #expect(dump.json?.arrayValue.first?["result"]?["count"] == 5)

            // A map id the kernel does not have.
            let missing = try client.callError("map.snapshot", ["map": ["id": 4_294_967_295]])
            #expect(missing.code == .notFound)
            #expect(missing.message == "the kernel has no map id 4294967295")
            // The command line reads an id no map has as the start of one's.
            let unknown = try bpfleet(["-n", server.address, "map", "dump", "--id", "4294967295"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr.hasSuffix("no map on this node has the id 4294967295 or an id starting 4294967295\n"), "\(unknown.stderr)")

            // Every foreign read is in the audit log; refused writes too.
            let lines = try auditLines(audit)
            let reads = lines.filter { $0["params"]?["foreign"] == true && $0["outcome"] == "ok" }
            #expect(reads.compactMap { $0["method"]?.stringValue }.sorted() == ["map.lookup", "map.snapshot", "map.snapshot", "map.watch"])
            #expect(reads.allSatisfy { $0["params"]?["map"] == .int(Int64(holder.mapID)) })
            #expect(lines.filter { $0["method"] == "map.update" && $0["outcome"] == "error" }.count == 1)
            #expect(lines.filter { $0["method"] == "map.delete" && $0["outcome"] == "error" }.count == 1)
        }

        // A viewer may not read it.
        try "root: viewer\n".write(toFile: files + "/roles.yaml", atomically: true, encoding: .utf8)
        try await withServer(["--foreign-maps", "--roles", files + "/roles.yaml", "--audit-log", files + "/viewer-audit.log"]) { server in
            let refused = try server.client().callError("map.snapshot", ["map": map])
            #expect(refused.code == .permissionDenied)
            #expect(refused.data == ["method": "map.snapshot", "needs": "operator", "role": "viewer", "map": .int(Int64(holder.mapID)), "foreign": true])
        }

        // A node that does not allow it says how it would.
        try await withServer { server in
            let refused = try server.client().callError("map.snapshot", ["map": map])
            #expect(refused.code == .notFound)
            #expect(refused.message.contains("--foreign-maps"))
        }
        #expect(try Bpftool.dump(mapID: holder.mapID).count == 5)
    }
}

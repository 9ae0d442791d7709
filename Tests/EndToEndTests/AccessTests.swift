import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Roles on the Unix socket (SO_PEERCRED), and the audit log.
@Suite(.requiresKernel)
struct AccessTests {
    @Test func unixPeersGetTheRoleTheRolesFileGivesTheirUid() async throws {
        let files = try temporaryDirectory("roles")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let viewer: UInt32 = 54_321, stranger: UInt32 = 54_322, operatorUID: UInt32 = 54_323
        try """
        # test roles
        operators:
          uids: [\(operatorUID)]
        viewers:
          gids: [\(viewer)]
        """.write(toFile: files + "/roles.yaml", atomically: true, encoding: .utf8)
        // The socket's group is every test uid's own group in turn: a group
        // the kernel lets connect; the roles file still decides.
        for uid in [viewer, stranger, operatorUID] {
            try await withServer(["--roles", files + "/roles.yaml", "--socket-group", String(uid)]) { server in
                let root = try server.client()
                try root.load("exec_users", as: "users", globals: ["min_uid": 4_000_000_000])
                let node = ["-n", server.address, "-o", "json"]
                let list = try bpfleet(node + ["probe", "list"], as: uid).json?.arrayValue.first
                let snapshot = try bpfleet(node + ["map", "dump", "users", "last_exec"], as: uid).json?.arrayValue.first
                let unload = try bpfleet(node + ["probe", "unload", "users"], as: uid).json?.arrayValue.first
                switch uid {
                case viewer:
                    #expect(list?["ok"] == true)
                    #expect(snapshot?["ok"] == true)
                    #expect(unload?["error"]?["code"] == -32002)
                    #expect(unload?["error"]?["data"] == ["method": "probe.unload", "needs": "operator", "role": "viewer"])
                    let update = try bpfleet(node + ["map", "update", "users", "last_exec", "1", "{\"pid\":1}"], as: uid).json?.arrayValue.first
                    #expect(update?["error"]?["code"] == -32002)
                    #expect(try root.call("probe.list")["probes"]?.arrayValue.count == 1)
                case stranger:
                    #expect(list?["error"]?["code"] == -32001)
                    #expect(snapshot?["error"]?["code"] == -32001)
                    #expect(unload?["error"]?["code"] == -32001)
                    #expect(try root.call("probe.list")["probes"]?.arrayValue.count == 1)
                default:
                    #expect(list?["ok"] == true)
                    #expect(unload?["ok"] == true)
                    #expect(try root.call("probe.list")["probes"] == [])
                }
            }
        }
    }

    @Test func theRolesFileIsReloadedOnSIGHUPWithoutDroppingConnections() async throws {
        let files = try temporaryDirectory("roles")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let roles = files + "/roles.yaml"
        try "root: operator\n".write(toFile: roles, atomically: true, encoding: .utf8)
        try await withServer(["--roles", roles]) { server in
            let client = try server.client()
            let objectId = try client.upload("exec_count")
            // Root made a viewer, on the same connection: it can read, not load.
            try "root: viewer\n".write(toFile: roles, atomically: true, encoding: .utf8)
            kill(server.pid, SIGHUP)
            // The reload is asynchronous. Deleting an object that is not
            // there shows the role without changing anything: -32002 for a
            // viewer, -32003 for an operator.
            let absent: JSONValue = ["objectId": .string("sha256:" + String(repeating: "0", count: 64))]
            func waitForRole(_ code: Int64) throws -> Bool {
                for _ in 0..<100 {
                    if try client.request("object.delete", absent)["error"]?["code"] == .int(code) { return true }
                    usleep(50_000)
                }
                return false
            }
            #expect(try waitForRole(-32002))
            let refused = try client.request("probe.load", ["name": "p", "objectId": .string(objectId)])["error"]
            #expect(refused?["code"] == -32002)
            #expect(try client.call("probe.list")["probes"] == [])
            // And back.
            try "root: operator\n".write(toFile: roles, atomically: true, encoding: .utf8)
            kill(server.pid, SIGHUP)
            #expect(try waitForRole(-32003))
            let loaded = try client.request("probe.load", ["name": "p", "objectId": .string(objectId)])["result"]
            #expect(loaded?["name"] == "p")
            // A broken file on reload keeps the roles that were.
            try "root: [not a role\n".write(toFile: roles, atomically: true, encoding: .utf8)
            kill(server.pid, SIGHUP)
            for _ in 0..<200 where !server.log.contains("roles file not reloaded") { usleep(50_000) }
            #expect(server.log.contains("roles file not reloaded"))
            #expect(try client.call("probe.unload", ["probe": "p"]) == [:])
        }
    }

    @Test func everyChangeIsAuditedExactlyOnceEvenUnderSixteenClients() async throws {
        let files = try temporaryDirectory("audit")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let audit = files + "/audit.log"
        try "root: operator\nviewers:\n  uids: [54324]\n".write(toFile: files + "/roles.yaml", atomically: true, encoding: .utf8)
        try await withServer(["--audit-log", audit, "--roles", files + "/roles.yaml", "--socket-group", "54324"]) { server in
            let client = try server.client()
            let probe = try client.load("big_hash", as: "big")
            let link = try client.call("probe.attach", ["probe": "big", "program": "touch", "target": ["type": "raw_tracepoint", "name": "sys_enter"]])
            _ = try client.callError("probe.load", ["name": "big", "objectId": probe["objectId"]!])  // conflict, audited too
            try client.call("probe.list")  // reads are not audited

            // 16 clients, 50 updates each, at once.
            let clients = 16, updates = 50
            DispatchQueue.concurrentPerform(iterations: clients) { index in
                guard let mine = try? server.client() else { return }
                for n in 0..<updates {
                    _ = try? mine.call("map.update", ["map": ["probe": "big", "name": "big"], "key": .int(Int64(index * 1000 + n + 10)), "value": 1])
                }
            }
            // A viewer's attempt is refused and audited.
            let denied = try bpfleet(["-n", server.address, "probe", "unload", "big"], environment: ["HOME": "/tmp"], as: 54324)
            #expect(denied.status == 1)
            try client.call("probe.detach", ["probe": "big", "linkId": link["linkId"]!])
            try client.call("probe.unload", ["probe": "big"])

            let lines = try auditLines(audit)
            let methods = lines.compactMap { $0["method"]?.stringValue }
            #expect(methods.filter { $0 == "object.upload" }.count == 1)
            #expect(methods.filter { $0 == "probe.load" }.count == 2)
            #expect(methods.filter { $0 == "probe.attach" }.count == 1)
            #expect(methods.filter { $0 == "probe.detach" }.count == 1)
            #expect(methods.filter { $0 == "probe.unload" }.count == 2)
            #expect(!methods.contains("probe.list"))
            let updatesLogged = lines.filter { $0["method"] == "map.update" }
            #expect(updatesLogged.count == clients * updates)
            #expect(Set(updatesLogged.compactMap { $0["params"]?["key"]?.int64Value }).count == clients * updates)
            #expect(updatesLogged.allSatisfy { $0["outcome"] == "ok" && $0["peer"]?["uid"] == 0 })

            let load = try #require(lines.first { $0["method"] == "probe.load" && $0["outcome"] == "ok" })
            #expect(load["params"]?["probe"] == "big")
            #expect(load["result"]?["programIds"] == .array(probe["programs"]!.arrayValue.map { $0["id"]! }))
            let conflict = try #require(lines.first { $0["method"] == "probe.load" && $0["outcome"] == "error" })
            #expect(conflict["error"]?["code"] == -32004)
            let refused = try #require(lines.first { $0["method"] == "probe.unload" && $0["outcome"] == "error" })
            #expect(refused["error"]?["code"] == -32002)
            #expect(refused["peer"]?["uid"] == 54324)
            #expect(refused["role"] == "viewer")
            let upload = try #require(lines.first { $0["method"] == "object.upload" })
            #expect(upload["params"]?["data"] == nil)  // never the object bytes
            #expect(upload["result"]?["objectId"] == probe["objectId"])
        }
    }
}

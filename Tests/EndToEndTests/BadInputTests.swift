import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Every kind of bad input gets its precise JSON-RPC error, and the node
/// stays exactly as it was: same probes, objects, pins, descriptors.
@Suite(.requiresKernel)
struct BadInputTests {
    /// What must not change when a request is refused.
    struct NodeState: Equatable {
        var probes: JSONValue
        var objects: JSONValue
        var pins: [String]
        var descriptors: Int
    }

    func state(_ server: ServerProcess, _ client: LineClient) throws -> NodeState {
        // Run statistics move whenever the kernel runs a program; they are
        // not state a request could have spoiled.
        let probes = try client.call("probe.list")["probes"]?.arrayValue.map { probe -> JSONValue in
            guard case .object(var fields) = probe else { return probe }
            fields["programs"] = .array(probe["programs"]?.arrayValue.map { program in
                guard case .object(var programFields) = program else { return program }
                programFields["runCount"] = nil
                programFields["runTimeNs"] = nil
                return .object(programFields)
            } ?? [])
            return .object(fields)
        } ?? []
        return NodeState(probes: .array(probes), objects: try client.call("object.list"),
                         pins: server.pins(), descriptors: server.openDescriptors())
    }

    /// A server with one probe loaded and attached, to have something to spoil.
    func withLoadedServer(_ extra: [String] = [], _ body: (ServerProcess, LineClient) async throws -> Void) async throws {
        try await withServer(extra) { server in
            let client = try server.client()
            // min_uid above every real uid: the probe runs but records
            // nothing, so its map holds only what a test puts there.
            try client.load("exec_users", as: "users", globals: ["min_uid": 4_000_000_000])
            try client.call("probe.attach", ["probe": "users", "program": "record_exec", "target": ["type": "auto"]])
            try await body(server, client)
        }
    }

    @Test func brokenObjectsAreRefusedAsInvalidObjects() async throws {
        try await withLoadedServer { server, client in
            let before = try state(server, client)
            let elf = try TestEnvironment.program("exec_count")

            let notBase64 = try client.callError("object.upload", ["data": "this is not base64!"])
            #expect(notBase64.code == .invalidParams)
            #expect(notBase64.data?["field"] == "data")

            let notELF = try client.callError("object.upload", ["data": .string(Data("just some text, no ELF here".utf8).base64EncodedString())])
            #expect(notELF.code == .invalidObject)

            let truncated = try client.callError("object.upload", ["data": .string(elf.prefix(elf.count / 2).base64EncodedString())])
            #expect(truncated.code == .invalidObject)

            let noPrograms = try client.callError("object.upload", ["data": .string(try TestEnvironment.program("maps_only").base64EncodedString())])
            #expect(noPrograms.code == .invalidObject)
            #expect(noPrograms.message.contains("no programs"))

            #expect(try state(server, client) == before)
            #expect(try FileManager.default.contentsOfDirectory(atPath: server.stateDirectory + "/objects").count == 2)
        }
    }

    @Test func unknownNamesAreNotFound() async throws {
        try await withLoadedServer { server, client in
            let before = try state(server, client)
            let cases: [(String, JSONValue, String)] = [
                ("probe.get", ["probe": "nope"], "probe"),
                ("probe.unload", ["probe": "nope"], "probe"),
                ("probe.attach", ["probe": "users", "program": "nope", "target": ["type": "auto"]], "program"),
                ("probe.detach", ["probe": "users", "linkId": 99], "link"),
                ("map.snapshot", ["map": ["probe": "users", "name": "nope"]], "map"),
                ("map.lookup", ["map": ["probe": "nope", "name": "last_exec"], "key": 1], "probe"),
                ("map.lookup", ["map": ["id": 4000000000], "key": 1], "map"),
                ("object.get", ["objectId": .string("sha256:" + String(repeating: "0", count: 64))], "object"),
            ]
            for (method, params, kind) in cases {
                let error = try client.callError(method, params)
                #expect(error.code == .notFound, "\(method) \(params)")
                #expect(error.data?["kind"] == .string(kind), "\(method)")
            }
            let objectId = try client.upload("exec_users")
            let unknownProgram = try client.callError("probe.load", ["name": "other", "objectId": .string(objectId), "programs": ["nope"]])
            #expect(unknownProgram.code == .notFound)
            #expect(try state(server, client) == before)
        }
    }

    @Test func duplicateNamesAndBadGlobalsAreRefused() async throws {
        try await withLoadedServer { server, client in
            let before = try state(server, client)
            let objectId = JSONValue.string(try client.upload("exec_users"))

            let duplicate = try client.callError("probe.load", ["name": "users", "objectId": objectId])
            #expect(duplicate.code == .conflict)

            let noSuchGlobal = try client.callError("probe.load", ["name": "g", "objectId": objectId, "globals": ["nope": 1]])
            #expect(noSuchGlobal.code == .invalidParams)
            #expect(noSuchGlobal.data?["field"] == "globals.nope")

            let tooBig = try client.callError("probe.load", ["name": "g", "objectId": objectId, "globals": ["min_uid": .int(1 << 40)]])
            #expect(tooBig.code == .invalidParams)
            #expect(tooBig.message.contains("out of range for an unsigned 32-bit integer"))

            let wrongType = try client.callError("probe.load", ["name": "g", "objectId": objectId, "globals": ["min_uid": "ten"]])
            #expect(wrongType.code == .invalidParams)
            #expect(wrongType.data?["field"] == "globals.min_uid")

            let badName = try client.callError("probe.load", ["name": "../escape", "objectId": objectId])
            #expect(badName.code == .invalidParams)

            let badTracepoint = try client.callError("probe.attach", ["probe": "users", "program": "record_exec",
                                                                      "target": ["type": "tracepoint", "category": "sched", "name": "no_such_tracepoint"]])
            #expect(badTracepoint.code == .attachFailed)
            #expect(badTracepoint.data?["errnoName"] == "ENOENT")

            let wrongKind = try client.callError("probe.attach", ["probe": "users", "program": "record_exec",
                                                                  "target": ["type": "raw_tracepoint", "name": "sys_enter"]])
            #expect(wrongKind.code == .invalidParams)

            let kprobe = try client.callError("probe.attach", ["probe": "users", "program": "record_exec",
                                                               "target": ["type": "kprobe", "function": "do_sys_openat2"]])
            #expect(kprobe.code == .unsupported)
            #expect(kprobe.data?["feature"] != nil)

            let after = try state(server, client)
            #expect(after == before, "\(after) != \(before)")
        }
    }

    @Test func keysAndValuesOfTheWrongShapeAreInvalidParams() async throws {
        try await withLoadedServer { server, client in
            let before = try state(server, client)
            let map: JSONValue = ["probe": "users", "name": "last_exec"]
            let cases: [(String, JSONValue, String)] = [
                ("map.lookup", ["map": map, "key": "seven"], "key"),
                ("map.lookup", ["map": map, "key": -1], "key"),
                ("map.lookup", ["map": map, "key": 4294967296], "key"),
                ("map.lookup", ["map": map, "key": "0700", "format": "hex"], "key"),
                ("map.lookup", ["map": map, "key": "zz000000", "format": "hex"], "key"),
                ("map.update", ["map": map, "key": 1, "value": ["comm": "this string is far too long"]], "value.comm"),
                ("map.update", ["map": map, "key": 1, "value": ["no_such_field": 1]], "value.no_such_field"),
                ("map.update", ["map": map, "key": 1, "value": ["kind": "NOT_A_CASE"]], "value.kind"),
                ("map.update", ["map": map, "key": 1, "value": ["cpu_hint": [1, 2, 3]]], "value.cpu_hint"),
                ("map.update", ["map": map, "key": 1, "value": 5], "value"),
                ("map.update", ["map": map, "key": 1, "value": ["pid": 1], "flags": "sometimes"], "flags"),
                ("map.delete", ["map": map, "key": [1]], "key"),
            ]
            for (method, params, field) in cases {
                let error = try client.callError(method, params)
                #expect(error.code == .invalidParams, "\(method) \(params): \(error)")
                #expect(error.data?["field"] == .string(field), "\(method) \(params): \(error)")
            }
            #expect(try client.snapshot("users", "last_exec").isEmpty)
            #expect(try state(server, client) == before)
        }
    }

    @Test func wrongJSONTypesInEveryParamNameTheField() async throws {
        try await withLoadedServer { server, client in
            let before = try state(server, client)
            let map: JSONValue = ["probe": "users", "name": "last_exec"]
            let cases: [(String, JSONValue, String)] = [
                ("object.upload", ["data": 5], "params.data"),
                ("object.upload", ["data": "", "name": 5], "params.name"),
                ("object.upload", [:], "params.data"),
                ("object.get", ["objectId": true], "params.objectId"),
                ("object.delete", ["objectId": []], "params.objectId"),
                ("probe.load", ["name": 1, "objectId": "x"], "params.name"),
                ("probe.load", ["name": "a", "objectId": 1], "params.objectId"),
                ("probe.load", ["name": "a", "objectId": "x", "programs": "all"], "params.programs"),
                ("probe.load", ["name": "a", "objectId": "x", "globals": [1]], "params.globals"),
                ("probe.load", ["name": "a", "objectId": "x", "labels": ["k": 1]], "params.labels.k"),
                ("probe.attach", ["probe": "users", "program": 1, "target": ["type": "auto"]], "params.program"),
                ("probe.attach", ["probe": "users", "program": "record_exec", "target": "auto"], "params.target"),
                ("probe.attach", ["probe": "users", "program": "record_exec", "target": ["type": "tracepoint", "category": 1, "name": "x"]], "params.target.category"),
                ("probe.attach", ["probe": "users", "program": "record_exec", "target": ["type": "wormhole"]], "params.target.type"),
                ("probe.detach", ["probe": "users", "linkId": "1"], "params.linkId"),
                ("probe.unload", ["probe": ["users"]], "params.probe"),
                ("probe.get", ["probe": nil], "params.probe"),
                ("map.list", ["probe": 5], "params.probe"),
                ("map.snapshot", ["map": "users/last_exec"], "params.map"),
                ("map.snapshot", ["map": map, "limit": "ten"], "params.limit"),
                ("map.snapshot", ["map": map, "format": "base64"], "params.format"),
                ("map.lookup", ["map": ["probe": "users"], "key": 1], "params.map.name"),
                ("map.lookup", ["map": ["id": -3], "key": 1], "params.map.id"),
                ("map.lookup", ["map": map], "params.key"),
                ("map.update", ["map": map, "key": 1], "params.value"),
                ("map.delete", ["key": 1], "params.map"),
                // Integers out of their field's range (Foundation's decoder
                // alone puts these at no field).
                ("probe.detach", ["probe": "users", "linkId": .uint(UInt64.max)], "params.linkId"),
                ("probe.attach", ["probe": "users", "program": "record_exec",
                                  "target": ["type": "tc", "interface": "lo", "direction": "ingress", "priority": 4_294_967_296]],
                 "params.target.priority"),
                ("probe.load", ["name": "a", "objectId": "x", "attach": [["program": "p",
                                "target": ["type": "uprobe", "binary": "/bin/true", "symbol": "main", "pid": 4_294_967_296]]]],
                 "params.attach[0].target.pid"),
            ]
            for (method, params, field) in cases {
                let error = try client.callError(method, params)
                #expect(error.code == .invalidParams, "\(method) \(params): \(error)")
                #expect(error.data?["field"] == .string(field), "\(method) \(params): \(error)")
            }
            #expect(try state(server, client) == before)
        }
    }

    @Test func malformedMessagesGetProtocolErrors() async throws {
        try await withLoadedServer { server, client in
            let before = try state(server, client)
            try client.send("{\"jsonrpc\": \"2.0\", \"method\": ")
            var reply = try client.readReply()
            #expect(reply["error"]?["code"] == -32700)
            #expect(reply["id"] == .null)

            try client.send(#"{"id": 9, "method": "node.info"}"#)
            reply = try client.readReply()
            #expect(reply["error"]?["code"] == -32600)
            #expect(reply["id"] == 9)

            try client.send(#"{"jsonrpc": "2.0", "id": "abc", "method": "node.explode"}"#)
            reply = try client.readReply()
            #expect(reply["error"]?["code"] == -32601)
            #expect(reply["id"] == "abc")

            try client.send(#"{"jsonrpc": "2.0", "id": 10, "method": "probe.get", "params": ["users"]}"#)
            reply = try client.readReply()
            #expect(reply["error"]?["code"] == -32602)

            try client.send(#"{"jsonrpc": "2.0", "id": {"a": 1}, "method": "node.info"}"#)
            reply = try client.readReply()
            #expect(reply["error"]?["code"] == -32600)
            #expect(reply["id"] == .null)

            try client.send("[]")
            reply = try client.readReply()
            #expect(reply["error"]?["code"] == -32600)

            try client.send("42")
            reply = try client.readReply()
            #expect(reply["error"]?["code"] == -32600)

            // A notification gets no reply, even when it fails; the next
            // request's reply is the next line.
            try client.send(#"{"jsonrpc": "2.0", "method": "probe.get", "params": {"probe": "nope"}}"#)
            try client.send(#"{"jsonrpc": "2.0", "id": 11, "method": "probe.list"}"#)
            reply = try client.readReply()
            #expect(reply["id"] == 11)

            // A batch: replies in one array, none for the notification.
            try client.send(#"[{"jsonrpc": "2.0", "id": 1, "method": "probe.get", "params": {"probe": "users"}}, {"jsonrpc": "2.0", "method": "node.info"}, {"jsonrpc": "2.0", "id": 2, "method": "nope"}, 17]"#)
            reply = try client.readReply()
            let members = reply.arrayValue
            #expect(members.count == 3)
            #expect(members[0]["id"] == 1 && members[0]["result"]?["name"] == "users")
            #expect(members[1]["id"] == 2 && members[1]["error"]?["code"] == -32601)
            #expect(members[2]["id"] == .null && members[2]["error"]?["code"] == -32600)

            // A batch of notifications only: nothing comes back.
            try client.send(#"[{"jsonrpc": "2.0", "method": "node.info"}]"#)
            try client.send(#"{"jsonrpc": "2.0", "id": 12, "method": "node.info"}"#)
            #expect(try client.readReply()["id"] == 12)

            #expect(try state(server, client) == before)
        }
    }

    @Test func oversizedMessagesAreDiscardedAndTheConnectionGoesOn() async throws {
        try await withLoadedServer(["--max-message-bytes", "2000000"]) { server, client in
            let before = try state(server, client)
            // One oversized line sent whole, one dribbled in pieces.
            let oversized = #"{"jsonrpc":"2.0","id":1,"method":"object.upload","params":{"data":""# + String(repeating: "A", count: 3_000_000) + "\"}}"
            try client.send(oversized)
            var reply = try client.readReply()
            #expect(reply["error"]?["code"] == -32009)
            #expect(reply["error"]?["data"]?["limit"] == "maxMessageBytes")
            #expect(reply["error"]?["data"]?["value"] == 2_000_000)
            #expect(reply["error"]?["message"]?.stringValue?.hasPrefix("message of \(oversized.utf8.count) bytes") == true)
            for _ in 0..<210 { try client.sendRaw(Array(String(repeating: "B", count: 10_000).utf8)); usleep(1000) }
            try client.sendRaw(Array("\n".utf8))
            reply = try client.readReply()
            #expect(reply["error"]?["code"] == -32009)
            #expect(try client.call("probe.get", ["probe": "users"])["name"] == "users")
            #expect(try state(server, client) == before)
        }
    }

    @Test func clientsThatVanishMidRequestLeaveTheNodeAsItWas() async throws {
        try await withLoadedServer { server, client in
            let before = try state(server, client)
            let objectId = try client.upload("exec_count")
            let afterUpload = try state(server, client)
            // Half a request, then gone.
            do {
                let leaver = try server.client()
                try leaver.sendRaw(Array(#"{"jsonrpc":"2.0","id":1,"method":"probe.load","params":{"name":"half","objectId":""#.utf8))
            }
            // A whole snapshot request, then gone before the reply.
            do {
                let leaver = try server.client()
                try leaver.send(#"{"jsonrpc":"2.0","id":1,"method":"map.snapshot","params":{"map":{"probe":"users","name":"last_exec"}}}"#)
            }
            // The server serves the next client as before.
            let next = try server.client()
            #expect(try next.call("probe.list")["probes"]?.arrayValue.count == 1)
            usleep(300_000)
            let after = try state(server, next)
            #expect(after.probes == afterUpload.probes)
            #expect(after.pins == before.pins)
            // One more descriptor than before: the connection of `next`.
            #expect(after.descriptors == afterUpload.descriptors + 1, "\(after.descriptors) vs \(afterUpload.descriptors)")
            _ = objectId
        }
    }
}

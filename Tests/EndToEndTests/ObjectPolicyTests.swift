import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Signed objects and a node's object policy (`--object-policy`): keys
/// made and objects signed by the real `bpfleet keygen` and `bpfleet sign`,
/// real bpfleetd processes judging them, the audit log and bpftool as
/// witnesses.
@Suite(.requiresKernel)
struct ObjectPolicyTests {
    /// A directory of keys (alice, bob, mallory), objects copied from
    /// programs/build, and their signatures.
    struct Signing {
        let directory: String
        var keyIDs: [String: String] = [:]

        init() throws {
            directory = try temporaryDirectory("object-policy")
            for name in ["alice", "bob", "mallory"] {
                let made = try bpfleet(["keygen", "--out", directory + "/keys", "--name", name])
                guard made.status == 0, let line = made.stdout.split(separator: "\n").first else {
                    throw TestFailure("keygen \(name): \(made.stderr)")
                }
                keyIDs[name] = String(line.dropFirst("key id  ".count))
            }
        }

        func keyID(_ name: String) -> String { keyIDs[name] ?? "?" }
        func publicKey(_ name: String) -> String { "\(directory)/keys/\(name).pub" }

        /// programs/build/PROGRAM.bpf.o copied here as PROGRAM.o.
        func object(_ program: String) throws -> String {
            let path = "\(directory)/\(program).o"
            if !FileManager.default.fileExists(atPath: path) { try createFile(path, contents: try TestEnvironment.program(program)) }
            return path
        }

        /// `bpfleet sign` of the object with a key, into OBJECT.KEY.sig; the
        /// signature's JSON.
        func sign(_ program: String, by key: String) throws -> JSONValue {
            let object = try object(program)
            let out = "\(object).\(key).sig"
            let signed = try bpfleet(["sign", object, "--key", "\(directory)/keys/\(key).key", "--out", out, "--force"])
            guard signed.status == 0 else { throw TestFailure("sign \(program) by \(key): \(signed.stderr)") }
            return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        }

        func digest(_ program: String) throws -> String {
            ObjectSignature.digest(of: try Data(contentsOf: URL(fileURLWithPath: try object(program))))
        }

        /// A policy file trusting `keys` (alice's from its file, the others
        /// inline), with the rest of it as given.
        func writePolicy(trusting keys: [String], _ rest: String = "", to name: String = "policy.yaml") throws -> String {
            var text = "# test object policy\ntrustedKeys:\n"
            for key in keys {
                if key == "alice" {
                    text += "  - name: alice\n    publicKeyFile: keys/alice.pub\n"
                } else {
                    let pem = try String(contentsOfFile: publicKey(key), encoding: .utf8)
                    text += "  - name: \(key)\n    publicKey: |\n" + pem.split(separator: "\n").map { "      \($0)\n" }.joined()
                }
            }
            let path = directory + "/" + name
            try (text + rest).write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func upload(_ client: LineClient, _ signing: Signing, _ program: String, _ signatures: [JSONValue]) throws -> JSONValue {
        var params: [String: JSONValue] = ["data": .string(try TestEnvironment.program(program).base64EncodedString()), "name": .string(program)]
        if !signatures.isEmpty { params["signatures"] = .array(signatures) }
        return try client.request("object.upload", .object(params))
    }

    static func signer(_ signing: Signing, _ name: String) -> JSONValue {
        ["keyId": .string(signing.keyID(name)), "name": .string(name)]
    }

    @Test func aNodeRefusesUnsignedUnknownAndMovedSignaturesAndLoadsATrustedOne() async throws {
        let signing = try Signing()
        defer { signing.remove() }
        let policy = try signing.writePolicy(trusting: ["alice", "bob"])
        let audit = signing.directory + "/audit.log"
        try await withServer(["--object-policy", policy, "--audit-log", audit]) { server in
            let client = try server.client()
            let digest = try signing.digest("exec_count")
            let file = "\(signing.directory)/policy.yaml"

            let unsigned = try Self.upload(client, signing, "exec_count", [])["error"]
            #expect(unsigned?["code"] == -32002)
            #expect(unsigned?["message"] == .string("object \(digest): not signed, and this node's object policy needs 1 signature by a trusted key"))
            #expect(unsigned?["data"] == ["objectId": .string(digest), "policy": [
                "file": .string(file), "requiredSignatures": 1, "unsigned": "refuse", "signers": [], "untrustedKeys": [], "missing": 1]])

            let mallory = try Self.upload(client, signing, "exec_count", [try signing.sign("exec_count", by: "mallory")])["error"]
            #expect(mallory?["code"] == -32002)
            #expect(mallory?["message"] == .string("object \(digest): no signature by a trusted key (\(signing.keyID("mallory")) is not in the object policy), and the policy needs 1 signature by a trusted key"))
            #expect(mallory?["data"]?["policy"]?["untrustedKeys"] == [.string(signing.keyID("mallory"))])

            // Alice's signature of other bytes, presented with these.
            let moved = try Self.upload(client, signing, "exec_count", [try signing.sign("exec_users", by: "alice")])["error"]
            let other = try signing.digest("exec_users")
            #expect(moved?["code"] == -32002)
            #expect(moved?["message"] == .string("object \(digest): the signature by alice (\(signing.keyID("alice"))) is of other bytes (\(other))"))
            // Nothing of the three was stored.
            #expect(try client.call("object.list")["objects"] == [])

            let aliceSignature = try signing.sign("exec_count", by: "alice")
            let stored = try #require(try Self.upload(client, signing, "exec_count", [aliceSignature])["result"])
            #expect(stored["objectId"] == .string(digest))
            #expect(stored["signers"] == [Self.signer(signing, "alice")])
            #expect(stored["policy"] == "satisfied")
            #expect(stored["signatures"] == [aliceSignature])

            let probe = try client.call("probe.load", ["name": "signed", "objectId": .string(digest)])
            #expect(probe["signers"] == [Self.signer(signing, "alice")])
            let got = try client.call("probe.get", ["probe": "signed"])
            #expect(got["signers"] == [Self.signer(signing, "alice")])
            #expect(got["policy"] == "satisfied")
            let programID = try #require(got["programs"]?.arrayValue.first?["id"]?.uint64Value)
            #expect(try Bpftool.show("prog", id: UInt32(programID))?["name"] as? String == "count_exec")
            // The CLI says it too.
            let shown = try bpfleet(["-n", server.address, "probe", "get", "signed"])
            #expect(shown.stdout.contains("signed by  alice\n"), "\(shown.stdout)")

            // The audit log: each refusal with what the policy found, then
            // the upload and the load with the signer's key id.
            let lines = try auditLines(audit)
            #expect(lines.map { $0["method"] } == ["object.upload", "object.upload", "object.upload", "object.upload", "probe.load"])
            #expect(lines[0]["error"] == .object(["code": -32002, "message": unsigned?["message"] ?? .null,
                                                  "policy": unsigned?["data"]?["policy"] ?? .null]))
            #expect(lines[1]["error"]?["policy"]?["untrustedKeys"] == [.string(signing.keyID("mallory"))])
            #expect(lines[1]["params"]?["signatures"] == [.string(signing.keyID("mallory"))])
            #expect(lines[2]["error"]?["policy"]?["invalidSignatures"] == [[
                "keyId": .string(signing.keyID("alice")),
                "reason": .string("the signature by alice (\(signing.keyID("alice"))) is of other bytes (\(other))")]])
            #expect(lines[3]["result"] == ["objectId": .string(digest), "signers": [.string(signing.keyID("alice"))], "policy": "satisfied"])
            #expect(lines[4]["result"]?["signers"] == [.string(signing.keyID("alice"))])
            #expect(lines[4]["result"]?["policy"] == "satisfied")
            #expect(try client.call("probe.unload", ["probe": "signed"]) == [:])
        }
    }

    @Test func aTwoSignatureRuleTakesOnlyTwoDistinctTrustedSigners() async throws {
        let signing = try Signing()
        defer { signing.remove() }
        let policy = try signing.writePolicy(trusting: ["alice", "bob"], "requiredSignatures: 2\n")
        try await withServer(["--object-policy", policy]) { server in
            let client = try server.client()
            let digest = try signing.digest("exec_count")
            let alice = try signing.sign("exec_count", by: "alice")
            let needs = "this node's object policy needs 2 signatures by distinct trusted keys"
            let one = try Self.upload(client, signing, "exec_count", [alice])["error"]
            #expect(one?["code"] == -32002)
            #expect(one?["message"] == .string("object \(digest): 1 signature by a trusted key (alice), and \(needs)"))
            #expect(one?["data"]?["policy"]?["missing"] == 1)
            // The same signer twice is one signer.
            let twice = try Self.upload(client, signing, "exec_count", [alice, alice])["error"]
            #expect(twice?["message"] == .string("object \(digest): 1 signature by a trusted key (alice), and \(needs)"))
            // A second signer the policy does not know is named, and does not count.
            let mallory = try Self.upload(client, signing, "exec_count", [alice, try signing.sign("exec_count", by: "mallory")])["error"]
            #expect(mallory?["message"] == .string("object \(digest): 1 signature by a trusted key (alice), and \(needs); \(signing.keyID("mallory")) is not in the policy"))
            #expect(try client.call("object.list")["objects"] == [])

            let both = try #require(try Self.upload(client, signing, "exec_count", [alice, try signing.sign("exec_count", by: "bob")])["result"])
            #expect(both["signers"] == [Self.signer(signing, "alice"), Self.signer(signing, "bob")])
            let probe = try client.call("probe.load", ["name": "two", "objectId": .string(digest)])
            #expect(probe["signers"] == [Self.signer(signing, "alice"), Self.signer(signing, "bob")])
            #expect(try client.call("probe.unload", ["probe": "two"]) == [:])
        }
    }

    @Test func aSIGHUPThatRemovesAKeyRefusesThatSignerNextTime() async throws {
        let signing = try Signing()
        defer { signing.remove() }
        let policy = try signing.writePolicy(trusting: ["alice", "bob"])
        try await withServer(["--object-policy", policy]) { server in
            let client = try server.client()
            let digest = try signing.digest("exec_count")
            let alice = try signing.sign("exec_count", by: "alice")
            #expect(try Self.upload(client, signing, "exec_count", [alice])["result"]?["signers"] == [Self.signer(signing, "alice")])
            try client.call("probe.load", ["name": "kept", "objectId": .string(digest)])

            func reloaded(_ count: Int, _ words: String) -> Bool {
                for _ in 0..<200 where server.log.components(separatedBy: words).count - 1 < count { usleep(50_000) }
                return server.log.components(separatedBy: words).count - 1 >= count
            }
            _ = try signing.writePolicy(trusting: ["bob"])
            kill(server.pid, SIGHUP)
            #expect(reloaded(1, "object policy reloaded"))

            let untrusted = "no signature by a trusted key (\(signing.keyID("alice")) is not in the object policy), and the policy needs 1 signature by a trusted key"
            let next = try Self.upload(client, signing, "exec_users", [try signing.sign("exec_users", by: "alice")])["error"]
            #expect(next?["code"] == -32002)
            #expect(next?["message"] == .string("object \(try signing.digest("exec_users")): \(untrusted)"))
            // The object stored under alice's key is judged again too: its
            // upload and a new load of it.
            #expect(try Self.upload(client, signing, "exec_count", [alice])["error"]?["message"] == .string("object \(digest): \(untrusted)"))
            let load = try client.callError("probe.load", ["name": "again", "objectId": .string(digest)])
            #expect(load.code == .permissionDenied)
            #expect(load.message == "object \(digest): \(untrusted)")
            // What already runs keeps running.
            #expect(try client.call("probe.get", ["probe": "kept"])["state"] == "running")
            #expect(try client.call("probe.list")["probes"]?.arrayValue.map { $0["name"] } == ["kept"])

            // A policy that does not read on reload leaves bob trusted.
            try "trustedKeys: [\n".write(toFile: policy, atomically: true, encoding: .utf8)
            kill(server.pid, SIGHUP)
            #expect(reloaded(1, "object policy not reloaded"))
            let bob = try Self.upload(client, signing, "exec_users", [try signing.sign("exec_users", by: "bob")])["result"]
            #expect(bob?["signers"] == [Self.signer(signing, "bob")])
            #expect(try client.call("probe.unload", ["probe": "kept"]) == [:])
        }
    }

    @Test func unsignedAuditLoadsTheObjectAndRecordsItButAMovedSignatureIsStillRefused() async throws {
        let signing = try Signing()
        defer { signing.remove() }
        let policy = try signing.writePolicy(trusting: ["alice"], "unsigned: audit\n")
        let audit = signing.directory + "/audit.log"
        try await withServer(["--object-policy", policy, "--audit-log", audit]) { server in
            let client = try server.client()
            let digest = try signing.digest("exec_count")
            let moved = try Self.upload(client, signing, "exec_count", [try signing.sign("exec_users", by: "alice")])["error"]
            #expect(moved?["code"] == -32002)

            let stored = try #require(try Self.upload(client, signing, "exec_count", [])["result"])
            #expect(stored["policy"] == "audited")
            #expect(stored["signers"] == [])
            let probe = try client.call("probe.load", ["name": "audited", "objectId": .string(digest)])
            #expect(probe["policy"] == "audited")
            #expect(server.log.contains("object admitted by the object policy's unsigned: audit"))
            let lines = try auditLines(audit)
            #expect(lines.map { $0["outcome"] } == ["error", "ok", "ok"])
            #expect(lines[1]["result"] == ["objectId": .string(digest), "signers": [], "policy": "audited"])
            #expect(lines[2]["result"]?["policy"] == "audited")
            let status = try bpfleet(["-n", server.address, "probe", "get", "audited"])
            #expect(status.stdout.contains("signed by  none (audited)\n"), "\(status.stdout)")
            #expect(try client.call("probe.unload", ["probe": "audited"]) == [:])
        }
    }

    @Test func withoutAPolicySignaturesAreKeptAndNothingIsChecked() async throws {
        let signing = try Signing()
        defer { signing.remove() }
        try await withServer { server in
            let client = try server.client()
            // Alice's signature of other bytes: a node without a policy
            // takes the object, as it always did (the documented trade-off).
            let moved = try signing.sign("exec_users", by: "alice")
            let stored = try #require(try Self.upload(client, signing, "exec_count", [moved])["result"])
            #expect(stored["signatures"] == [moved])
            #expect(stored["signers"] == nil)
            #expect(stored["policy"] == nil)
            #expect(server.log.contains("no object policy: objects are stored and loaded whoever signed them"))
            // Malformed signatures are refused by their form all the same.
            let long = try client.callError("object.upload", [
                "data": .string(try TestEnvironment.program("exec_count").base64EncodedString()),
                "signatures": [["format": "bpfleet-object-signature-v1", "digest": .string(String(repeating: "a", count: 72)),
                                "keyId": "ed25519:00", "signature": "AA=="]]])
            #expect(long.code == .invalidParams)
            #expect(long.message == "signatures[0].digest: 1 to 71 bytes, got 72")
        }
    }

    @Test func applyOfASignedManifestRollsOutAndStatusShowsTheSigner() async throws {
        let signing = try Signing()
        defer { signing.remove() }
        let policy = try signing.writePolicy(trusting: ["alice", "bob"])
        let object = try signing.object("exec_count")
        let signed = try bpfleet(["sign", object, "--key", signing.directory + "/keys/alice.key"])
        #expect(signed.status == 0, "\(signed.stderr)")
        let manifest = signing.directory + "/probe.yaml"
        try """
        probe: signed-execs
        object: exec_count.o
        attach:
          - program: count_exec
            target: {type: tracepoint, category: sched, name: sched_process_exec}
        """.write(toFile: manifest, atomically: true, encoding: .utf8)
        try await withServer(["--object-policy", policy]) { first in
            try await withServer(["--object-policy", policy]) { second in
                let nodes = ["-n", first.address, "-n", second.address]
                let applied = try bpfleet(nodes + ["apply", "-f", manifest])
                #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
                let status = try bpfleet(nodes + ["-o", "json", "status", "-f", manifest])
                #expect(status.status == 0)
                let records = try #require(status.json?.arrayValue)
                #expect(records.count == 2)
                for record in records {
                    #expect(record["state"] == "in sync")
                    #expect(record["signers"] == [Self.signer(signing, "alice")])
                    #expect(record["policy"] == "satisfied")
                }
                let table = try bpfleet(nodes + ["status", "-f", manifest])
                let header = table.stdout.split(separator: "\n").first.map(String.init) ?? ""
                #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["NODE", "STATE", "SPEC", "SIGNED", "BY", "DETAIL"], "\(table.stdout)")
                #expect(table.stdout.split(separator: "\n").dropFirst().prefix(2).allSatisfy { $0.contains(" alice") }, "\(table.stdout)")
                for server in [first, second] {
                    #expect(try server.client().call("probe.get", ["probe": "signed-execs"])["signers"] == [Self.signer(signing, "alice")])
                }
                #expect(try bpfleet(nodes + ["delete", "-f", manifest]).status == 0)

                // A signature file of other bytes is named before any node is asked.
                _ = try signing.sign("exec_users", by: "bob")
                try """
                probe: stale
                object: exec_count.o
                signatures: [exec_users.o.bob.sig]
                """.write(toFile: manifest, atomically: true, encoding: .utf8)
                let stale = try bpfleet(nodes + ["apply", "-f", manifest])
                #expect(stale.status == 64)
                #expect(stale.stderr.contains("signatures[0]: signature '\(signing.directory)/exec_users.o.bob.sig': signs \(try signing.digest("exec_users")), not this object (\(try signing.digest("exec_count"))): sign the object again"), "\(stale.stderr)")
                #expect(try first.client().call("probe.list")["probes"] == [])
            }
        }
    }

    @Test func applySendsTheSignaturesANodeHoldingTheObjectLacks() async throws {
        let signing = try Signing()
        defer { signing.remove() }
        let policy = try signing.writePolicy(trusting: ["alice", "bob"])
        _ = try signing.sign("exec_count", by: "alice")
        _ = try signing.sign("exec_count", by: "bob")
        let manifest = signing.directory + "/probe.yaml"
        try "probe: two-signers\nobject: exec_count.o\nsignatures: [exec_count.o.alice.sig, exec_count.o.bob.sig]\n"
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        try await withServer(["--object-policy", policy]) { server in
            let client = try server.client()
            // The node holds the object with alice's signature only...
            let alice = try signing.sign("exec_count", by: "alice")
            #expect(try Self.upload(client, signing, "exec_count", [alice])["result"]?["signers"] == [Self.signer(signing, "alice")])
            // ...when its policy comes to need two.
            _ = try signing.writePolicy(trusting: ["alice", "bob"], "requiredSignatures: 2\n")
            kill(server.pid, SIGHUP)
            for _ in 0..<200 where !server.log.contains("object policy reloaded") { usleep(50_000) }
            #expect(server.log.contains("object policy reloaded"))

            let applied = try bpfleet(["-n", server.address, "apply", "-f", manifest, "--preflight"])
            #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
            let probe = try client.call("probe.get", ["probe": "two-signers"])
            #expect(probe["signers"] == [Self.signer(signing, "alice"), Self.signer(signing, "bob")])
            let object = try client.call("object.get", ["objectId": .string(try signing.digest("exec_count"))])
            #expect(object["signatures"]?.arrayValue.map { $0["keyId"] } == [.string(signing.keyID("alice")), .string(signing.keyID("bob"))])
            #expect(try client.call("probe.unload", ["probe": "two-signers"]) == [:])
        }
    }

    @Test func probeLoadAndVerifyOfAFileSendTheSignaturesNamed() async throws {
        let signing = try Signing()
        defer { signing.remove() }
        let policy = try signing.writePolicy(trusting: ["alice"])
        let object = try signing.object("exec_count")
        _ = try signing.sign("exec_count", by: "alice")
        try await withServer(["--object-policy", policy]) { server in
            let node = ["-n", server.address]
            // No OBJECT.sig beside it: nothing is sent, and the node refuses.
            let unsigned = try bpfleet(node + ["verify", object])
            #expect(unsigned.status == 1)
            #expect(unsigned.stdout.contains("object \(try signing.digest("exec_count")): not signed"), "\(unsigned.stdout)\(unsigned.stderr)")
            let verified = try bpfleet(node + ["verify", object, "--signature", object + ".alice.sig"])
            #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
            let loaded = try bpfleet(node + ["-o", "json", "probe", "load", object, "--name", "by-file", "--signature", object + ".alice.sig"])
            #expect(loaded.status == 0, "\(loaded.stderr)")
            #expect(loaded.json?.arrayValue.first?["result"]?["signers"] == [Self.signer(signing, "alice")])
            let byID = try bpfleet(node + ["probe", "load", try signing.digest("exec_count"), "--name", "x", "--signature", object + ".alice.sig"])
            #expect(byID.status == 64)
            #expect(byID.stderr.contains("--signature goes with an object file"), "\(byID.stderr)")
            #expect(try server.client().call("probe.unload", ["probe": "by-file"]) == [:])
        }
    }

    @Test func aPolicyWithAMistakeStopsBpfleetdNamingIt() throws {
        let signing = try Signing()
        defer { signing.remove() }
        func start(_ policy: String) throws -> (status: Int32, log: String) {
            let path = signing.directory + "/bad.yaml"
            try policy.write(toFile: path, atomically: true, encoding: .utf8)
            let pinRoot = "/sys/fs/bpf/bpfleet-test-policy-\(getpid())"
            defer { rmdir(pinRoot) }
            let result = try run(TestEnvironment.bpfleetd, [
                "--listen", "unix:\(signing.directory)/bad.sock", "--object-policy", path,
                "--state-dir", signing.directory + "/state", "--pin-root", pinRoot])
            return (result.status, String(decoding: result.stdout + result.stderr, as: UTF8.self))
        }
        let file = signing.directory + "/bad.yaml"
        let cases: [(String, String)] = [
            (try String(contentsOfFile: try signing.writePolicy(trusting: ["alice"], "requiredSignature: 2\n"), encoding: .utf8),
             "object policy \(file): 'requiredSignature' is not a key of the object policy (allowedObjects, requiredSignatures, trustedKeys, unsigned)"),
            (try String(contentsOfFile: try signing.writePolicy(trusting: ["alice"], "requiredSignatures: 2\n"), encoding: .utf8),
             "object policy \(file): requiredSignatures is 2 but trustedKeys has 1: no object could be loaded"),
            (try String(contentsOfFile: try signing.writePolicy(trusting: ["alice"], "unsigned: allow\n"), encoding: .utf8),
             "object policy \(file): unsigned: refuse or audit, not 'allow'"),
            ("trustedKeys:\n  - name: x\n    publicKey: not a key\n",
             "object policy \(file): trustedKeys[0] (x): not an Ed25519 public key in PEM (as `bpfleet keygen` writes NAME.pub)"),
            ("trustedKeys:\n  - name: x\n    publicKeyFile: keys/none.pub\n",
             "object policy \(file): trustedKeys[0] (x): cannot read publicKeyFile keys/none.pub"),
            ("requiredSignatures: 0\n", "object policy \(file): requiredSignatures: 0 lets every object in; give allowedObjects with it, or require signatures"),
            ("allowedObjects: [sha256:ab]\nrequiredSignatures: 0\n",
             "object policy \(file): allowedObjects[0]: expected sha256:<64 lowercase hex digits>, got 'sha256:ab'"),
        ]
        for (policy, message) in cases {
            let started = try start(policy)
            #expect(started.status == 78, "\(policy)")
            #expect(started.log.contains(message), "\(started.log)")
        }
    }

    @Test func anAllowListAloneTakesOnlyTheObjectsItNames() async throws {
        let signing = try Signing()
        defer { signing.remove() }
        let allowed = try signing.digest("exec_count")
        let policy = try signing.writePolicy(trusting: [], "requiredSignatures: 0\nallowedObjects:\n  - \(allowed)\n")
        try await withServer(["--object-policy", policy]) { server in
            let client = try server.client()
            let other = try Self.upload(client, signing, "exec_users", [])["error"]
            #expect(other?["code"] == -32002)
            #expect(other?["message"] == .string("object \(try signing.digest("exec_users")): not among the objects this node's object policy allows (allowedObjects)"))
            #expect(other?["data"]?["policy"]?["allowed"] == false)
            let listed = try #require(try Self.upload(client, signing, "exec_count", [])["result"])
            #expect(listed["policy"] == "satisfied")
        }
    }
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Mutual TLS on loopback with certificates made by `bpfleet cert`, the
/// route docs/security.md gives people.
@Suite(.requiresServer)
struct TLSTests {
    func withTLSServer(_ pki: CommandLinePKI, _ extra: [String] = [], _ body: (ServerProcess, String) async throws -> Void) async throws {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...40_000)
            let server: ServerProcess
            do {
                server = try ServerProcess.start(["--listen", "tcp://127.0.0.1:\(port)", "--tls-cert", pki.directory + "/node.pem",
                                                  "--tls-key", pki.directory + "/node-key.pem", "--client-ca", pki.ca,
                                                  "--roles", pki.roles] + extra)
            } catch {
                lastError = error  // the port was taken: another one
                continue
            }
            defer { server.stop() }
            try await body(server, "tcp://127.0.0.1:\(port)")
            return
        }
        throw lastError ?? TestFailure("no port")
    }

    /// `bpfleet` as a user with no configuration would run it.
    func bpfleet(_ arguments: [String]) throws -> Invocation {
        try TestSupport.bpfleet(arguments, environment: CommandEnvironment.minimal)
    }

    @Test(.requiresKernel) func operatorsChangeViewersReadAndStrangersDoNotGetPastTheHandshake() async throws {
        let pki = try CommandLinePKI.make()
        defer { try? FileManager.default.removeItem(atPath: pki.directory) }
        try await withTLSServer(pki) { server, node in
            let ops = ["-n", node, "--ca", pki.ca] + pki.cert("ops") + ["-o", "json"]
            let load = try bpfleet(ops + ["probe", "load", TestEnvironment.programPath("exec_count"), "--name", "execs"])
            #expect(load.status == 0, "\(load.stderr)")
            let attach = try bpfleet(ops + ["probe", "attach", "execs", "count_exec", "--auto"])
            #expect(attach.json?.arrayValue.first?["ok"] == true)

            let viewer = ["-n", node, "--ca", pki.ca] + pki.cert("watcher") + ["-o", "json"]
            #expect(try bpfleet(viewer + ["probe", "list"]).json?.arrayValue.first?["ok"] == true)
            #expect(try bpfleet(viewer + ["map", "dump", "execs", "exec_counts"]).json?.arrayValue.first?["ok"] == true)
            for command in [["probe", "unload", "execs"], ["probe", "attach", "execs", "count_exec", "--auto"],
                            ["map", "update", "execs", "exec_counts", "{\"comm\":\"x\"}", "1"],
                            ["probe", "load", TestEnvironment.programPath("exec_count"), "--name", "other"]] {
                let refused = try bpfleet(viewer + command)
                #expect(refused.status == 1)
                #expect(refused.json?.arrayValue.first?["error"]?["code"] == -32002, "\(command)")
            }
            let table = try bpfleet(["-n", node, "--ca", pki.ca] + pki.cert("watcher") + ["probe", "unload", "execs"])
            #expect(table.stderr.contains("permission denied: probe.unload needs operator"))

            // No certificate, a foreign CA's, an expired one: refused in the handshake.
            let none = try bpfleet(["-n", node, "--ca", pki.ca, "-o", "json", "node", "info"])
            #expect(none.status == 1)
            #expect(none.json?.arrayValue.first?["error"]?["kind"] == "tls")
            #expect(none.json?.arrayValue.first?["error"]?["message"]?.stringValue?.contains("requires a client certificate") == true)
            let foreign = try bpfleet(["-n", node, "--ca", pki.ca, "--cert", pki.directory + "/foreign/ops.pem",
                                       "--key", pki.directory + "/foreign/ops-key.pem", "-o", "json", "node", "info"])
            #expect(foreign.json?.arrayValue.first?["error"]?["message"]?.stringValue?.contains("certificate not trusted by node") == true)
            let expired = try bpfleet(["-n", node, "--ca", pki.ca] + pki.cert("old") + ["-o", "json", "node", "info"])
            #expect(expired.json?.arrayValue.first?["error"]?["message"]?.stringValue?.contains("expired") == true)

            // The node's audit log knows the operator by its certificate,
            // and never saw the strangers.
            let lines = try auditLines(server.stateDirectory + "/audit.log")
            let loads = lines.filter { $0["method"] == "probe.load" }
            #expect(loads.first?["peer"]?["subject"] == "CN=ops")
            #expect(loads.first?["peer"]?["transport"] == "tls")
            #expect(lines.allSatisfy { $0["peer"]?["subject"] != "CN=old" })
            #expect(lines.filter { $0["role"] == "viewer" }.count == 5)

            // And it goes on serving.
            #expect(try bpfleet(ops + ["probe", "unload", "execs"]).status == 0)
        }
    }

    @Test func aClientThatNeverHandshakesIsDisconnected() async throws {
        let pki = try CommandLinePKI.make()
        defer { try? FileManager.default.removeItem(atPath: pki.directory) }
        try await withTLSServer(pki, ["--handshake-timeout", "1"]) { server, node in
            let port = UInt16(node.split(separator: ":").last!)!
            let fd = try loopbackConnection(port: port)
            defer { close(fd) }
            let started = Date()
            #expect(endedWithoutAWord(fd, milliseconds: 10_000))  // closed by the server
            #expect(Date().timeIntervalSince(started) < 9)
            // The node still serves a proper client.
            let ops = ["-n", node, "--ca", pki.ca] + pki.cert("ops")
            let info = try bpfleet(ops + ["node", "info"])
            #expect(info.status == 0)
            _ = server
        }
    }
}

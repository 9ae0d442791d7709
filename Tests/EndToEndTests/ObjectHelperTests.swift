import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Uploaded objects are opened, and probes loaded, by bpfleetd's object
/// helper, a child process: a helper that dies, stops answering or runs
/// out of memory costs the one request it was serving, and is replaced.
@Suite(.requiresKernel)
struct ObjectHelperTests {
    /// The server's object helper: its child started with --object-helper.
    static func helper(of server: ServerProcess) throws -> pid_t {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = pid_t(entry),
                      let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                guard fields.count > 2, pid_t(fields[1]) == server.pid, fields[0] != "Z" else { continue }
                let commandLine = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))) ?? Data()
                if String(decoding: commandLine, as: UTF8.self).contains("--object-helper") { return pid }
            }
            usleep(20_000)
        }
        throw TestFailure("bpfleetd \(server.pid) has no object helper")
    }

    /// Waits until the server's log says it has sent `count` requests to
    /// its helper in all.
    static func waitForRequestsSent(_ server: ServerProcess, count: Int) throws {
        let deadline = Date().addingTimeInterval(20)
        while server.log.components(separatedBy: "object helper: request sent").count - 1 < count {
            guard Date() < deadline else { throw TestFailure("bpfleetd did not send request \(count) to its helper") }
            usleep(10_000)
        }
    }

    /// Stops `pid` (SIGSTOP) and waits until the kernel has stopped it: a
    /// process the scheduler has not run since the signal is not stopped
    /// yet, and would still answer.
    static func stop(_ pid: pid_t) throws {
        kill(pid, SIGSTOP)
        let deadline = Date().addingTimeInterval(20)
        while true {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].split(separator: " ").first == "T" { return }
            guard Date() < deadline else { throw TestFailure("helper \(pid) did not stop") }
            usleep(5_000)
        }
    }

    static func uploadParams(_ bytes: Data) -> JSONValue {
        ["data": .string(bytes.base64EncodedString()), "name": "helper-test"]
    }

    @Test func uploadsAreOpenedInTheHelperProcess() async throws {
        try await withServer { server in
            let helper = try Self.helper(of: server)
            #expect(helper != server.pid)
            let described = try server.client().call("object.upload", Self.uploadParams(try TestEnvironment.program("exec_count")))
            #expect(described["programs"]?.arrayValue.first?["name"] == "count_exec")
            // The same helper serves the next request: it is kept warm.
            #expect(try Self.helper(of: server) == helper)
        }
    }

    @Test func aHelperKilledMidRequestCostsThatRequestAlone() async throws {
        try await withServer { server in
            let client = try server.client()
            let before = try client.call("object.list")
            let helper = try Self.helper(of: server)
            // Stopped, it holds the request unread; killed, it never answers.
            try Self.stop(helper)
            let request: JSONValue = ["jsonrpc": "2.0", "id": 7, "method": "object.upload",
                                      "params": Self.uploadParams(try TestEnvironment.program("exec_count"))]
            try client.send(String(decoding: try JSONEncoder().encode(request), as: UTF8.self))
            try Self.waitForRequestsSent(server, count: 1)
            kill(helper, SIGKILL)
            let reply = try client.readReply()
            let error = try JSONDecoder().decode(ResponseError.self, from: JSONEncoder().encode(reply["error"]))
            #expect(error.code == .invalidObject)
            #expect(error.message == "the object helper died of signal 9 (SIGKILL) while describing the object")
            #expect(error.data?["helper"]?["reason"] == "signal")
            #expect(error.data?["helper"]?["signalName"] == "SIGKILL")

            #expect(try client.call("node.info")["serverVersion"] != nil)
            #expect(try client.call("object.list") == before)
            let replacement = try Self.helper(of: server)
            #expect(replacement != helper)
            #expect(kill(helper, 0) == -1 && errno == ESRCH)
            // The next upload is served by the new helper.
            #expect(try client.upload("exec_count").hasPrefix("sha256:"))
        }
    }

    @Test func aHelperKilledMidLoadLeavesNothingAndTheNameLoadsAgain() async throws {
        try await withServer { server in
            let client = try server.client()
            let objectId = try client.upload("exec_count")
            let before = try client.call("probe.list")
            let helper = try Self.helper(of: server)
            try Self.stop(helper)
            let request: JSONValue = ["jsonrpc": "2.0", "id": 8, "method": "probe.load",
                                      "params": ["name": "killed", "objectId": .string(objectId)]]
            try client.send(String(decoding: try JSONEncoder().encode(request), as: UTF8.self))
            try Self.waitForRequestsSent(server, count: 2)  // the upload's, then the load's
            kill(helper, SIGKILL)
            let reply = try client.readReply()
            let error = try JSONDecoder().decode(ResponseError.self, from: JSONEncoder().encode(reply["error"]))
            #expect(error.code == .invalidObject)
            #expect(error.message == "the object helper died of signal 9 (SIGKILL) while loading the object")

            #expect(try client.call("probe.list") == before)
            #expect(server.pins() == [])
            #expect(kill(helper, 0) == -1 && errno == ESRCH)
            // The name was not taken: it loads, through the new helper.
            let loaded = try client.call("probe.load", ["name": "killed", "objectId": .string(objectId)])
            #expect(loaded["programs"]?.arrayValue.first?["name"] == "count_exec")
            try client.call("probe.unload", ["probe": "killed"])
            #expect(server.pins() == [])
        }
    }

    @Test func aHelperThatDoesNotAnswerIsStoppedAtItsTimeLimit() async throws {
        try await withServer(["--object-helper-timeout", "1"]) { server in
            let client = try server.client()
            let helper = try Self.helper(of: server)
            try Self.stop(helper)
            let error = try client.callError("object.upload", Self.uploadParams(try TestEnvironment.program("exec_count")))
            #expect(error.code == .invalidObject)
            #expect(error.message == "the object helper did not answer within 1 s while describing the object (its time limit); it was stopped and replaced")
            #expect(error.data?["helper"]?["reason"] == "timeLimit")
            #expect(kill(helper, 0) == -1 && errno == ESRCH)
            #expect(try Self.helper(of: server) != helper)
            #expect(try client.upload("exec_count").hasPrefix("sha256:"))
        }
    }

    @Test func aHelperThatRunsOutOfMemoryCostsThatRequestAlone() async throws {
        // Two copies of a 24 MB object (the request, and libbpf's image of
        // it) do not fit in 64 MiB beside the helper's own 30 MB.
        try await withServer(["--object-helper-memory", "64M", "--max-message-bytes", "50000000"]) { server in
            let client = try server.client()
            var huge = try TestEnvironment.program("exec_count")
            huge.append(Data(count: 24 << 20))
            let error = try client.callError("object.upload", Self.uploadParams(huge))
            #expect(error.code == .invalidObject)
            #expect(error.message.hasPrefix("the object helper exhausted its memory limit (64 MiB) while describing the object"), "\(error.message) \(String(describing: error.data))")
            #expect(error.data?["helper"]?["reason"] == "memoryLimit")
            #expect(try client.call("node.info")["serverVersion"] != nil)
            #expect(try client.upload("exec_count").hasPrefix("sha256:"))
        }
    }
}

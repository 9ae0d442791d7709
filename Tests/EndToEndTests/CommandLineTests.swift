import BpfleetShared
import Foundation
import TestSupport
import Testing

/// The `bpfleet` binary against real bpfleetd processes: what people and
/// scripts see, exit statuses included.
@Suite(.requiresKernel)
struct CommandLineTests {
    @Test func loadAttachCountDumpAndUnloadThroughTheClient() async throws {
        try await withServer { server in
            let node = ["-n", server.address]
            let load = try bpfleet(node + ["-o", "json", "probe", "load", TestEnvironment.programPath("exec_count"), "--name", "execs", "--label", "team=tests"])
            #expect(load.status == 0, "\(load.stderr)")
            let loaded = try #require(load.json?.arrayValue.first)
            #expect(loaded["node"] == .string(server.address))
            #expect(loaded["ok"] == true)
            #expect(loaded["result"]?["labels"] == ["team": "tests"])
            let programID = try #require(loaded["result"]?["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32
            #expect(try Bpftool.exists("prog", id: programID))

            let attach = try bpfleet(node + ["probe", "attach", "execs", "count_exec", "--tracepoint", "sched:sched_process_exec"])
            #expect(attach.status == 0, "\(attach.stderr)")

            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try Workload.exec(binary.path, times: 10)

            let dump = try bpfleet(node + ["-o", "json", "map", "dump", "execs", "exec_counts"])
            #expect(dump.status == 0)
            let entries = dump.json?.arrayValue.first?["result"]?["entries"]?.arrayValue ?? []
            #expect(entries.filter { $0["key"]?["comm"] == .string(binary.comm) }.map { $0["value"] } == [10])

            let lookup = try bpfleet(node + ["-o", "json", "map", "lookup", "execs", "exec_counts", "{\"comm\":\"\(binary.comm)\"}"])
            #expect(lookup.json?.arrayValue.first?["result"]?["value"] == 10)

            let table = try bpfleet(node + ["map", "dump", "execs", "exec_counts"])
            let row = table.stdout.split(separator: "\n").first { $0.contains(binary.comm) }
            #expect(row?.split(separator: " ").last == "10")

            let list = try bpfleet(node + ["probe", "list"])
            #expect(list.status == 0)
            #expect(list.stdout.contains("execs"))

            let unload = try bpfleet(node + ["probe", "unload", "execs"])
            #expect(unload.status == 0)
            #expect(try Bpftool.isGone("prog", id: programID))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func fanOutReportsEveryNodeAndExits2WhenSomeFail() async throws {
        try await withServer { first in
            try await withServer { second in
                let missing = "unix:/tmp/bpfleet-no-such-node-\(UInt32.random(in: 0...UInt32.max)).sock"
                let nodes = ["-n", first.address, "-n", second.address, "-n", missing]

                let json = try bpfleet(nodes + ["-o", "json", "node", "info"])
                #expect(json.status == 2)
                let elements = json.json?.arrayValue ?? []
                #expect(elements.map { $0["node"] } == [.string(first.address), .string(second.address), .string(missing)])
                #expect(elements.map { $0["ok"] } == [true, true, false])
                #expect(elements[0]["result"]?["btf"] == true)
                #expect(elements[2]["error"]?["kind"] == "unreachable")
                #expect(json.stderr == "")

                let ndjson = try bpfleet(nodes + ["-o", "ndjson", "node", "info"])
                #expect(ndjson.status == 2)
                let lines = ndjson.stdout.split(separator: "\n")
                #expect(lines.count == 3)
                #expect(Set(lines.compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))["node"] })
                    == [.string(first.address), .string(second.address), .string(missing)])

                let healthy = try bpfleet(["-n", first.address, "-n", second.address, "node", "info"])
                #expect(healthy.status == 0)
                #expect(healthy.stderr == "bpfleet: 2 ok, 0 failed, 0 unreachable (of 2 nodes)\n")

                let table = try bpfleet(nodes + ["node", "info"])
                #expect(table.status == 2)
                let failures = table.stderr.split(separator: "\n").filter { $0.contains(missing) }
                #expect(failures.count == 1)
                #expect(failures.first?.contains("cannot connect") == true)
                #expect(table.stderr.split(separator: "\n").last == "bpfleet: 2 ok, 0 failed, 1 unreachable (of 3 nodes)")

                // A server error on one node, unreachable another: none ok.
                let none = try bpfleet(["-n", first.address, "-n", missing, "probe", "get", "no-such-probe"])
                #expect(none.status == 1)
                #expect(none.stderr.split(separator: "\n").last == "bpfleet: 0 ok, 1 failed, 1 unreachable (of 2 nodes)")
            }
        }
    }

    @Test func everyNodeFailingExits1() async throws {
        let missing = (0..<2).map { _ in "unix:/tmp/bpfleet-no-such-node-\(UInt32.random(in: 0...UInt32.max)).sock" }
        let result = try bpfleet(["-n", missing[0], "-n", missing[1], "--retries", "0", "node", "info"])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr.split(separator: "\n").last == "bpfleet: 0 ok, 0 failed, 2 unreachable (of 2 nodes)")
        let one = try bpfleet(["-n", missing[0], "-o", "json", "node", "info"])
        #expect(one.status == 1)
    }

    @Test func selectorPicksNodesFromAnInventory() async throws {
        try await withServer { web in
            try await withServer { db in
                let inventory = NSTemporaryDirectory() + "bpfleet-inventory-\(UInt32.random(in: 0...UInt32.max)).yaml"
                try """
                    nodes:
                      - {name: web-1, address: "\(web.address)", labels: {role: web, zone: a}}
                      - {name: db-1, address: "\(db.address)", labels: {role: db, zone: a}}
                    """.write(toFile: inventory, atomically: true, encoding: .utf8)
                defer { unlink(inventory) }

                let webOnly = try bpfleet(["--inventory", inventory, "-l", "role=web", "-o", "json", "node", "info"])
                #expect(webOnly.status == 0, "\(webOnly.stderr)")
                #expect(webOnly.json?.arrayValue.map { $0["node"] } == [.string("web-1")])
                #expect(webOnly.json?.arrayValue.map { $0["address"] } == [.string(web.address)])

                let both = try bpfleet(["--inventory", inventory, "--selector", "zone in (a, b)", "-o", "json", "node", "info"])
                #expect(both.json?.arrayValue.map { $0["node"] } == [.string("web-1"), .string("db-1")])

                let nothing = try bpfleet(["--inventory", inventory, "-l", "role=cache", "node", "info"])
                #expect(nothing.status == 64)
                #expect(nothing.stderr.hasPrefix("bpfleet: no node matches --selector 'role=cache'"))

                let unparsed = try bpfleet(["--inventory", inventory, "-l", "role in web", "node", "info"])
                #expect(unparsed.status == 64)
                #expect(unparsed.stderr == "bpfleet: --selector: column 9: expected '(' after in, found 'web'\n  role in web\n          ^\n")
            }
        }
    }

    @Test func verifierRejectionIsOneLineUnlessTheLogIsAskedFor() async throws {
        try await withServer { server in
            let program = TestEnvironment.programPath("verifier_reject")
            let short = try bpfleet(["-n", server.address, "probe", "load", program, "--name", "bad"])
            #expect(short.status == 1)
            let lines = short.stderr.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(lines.first?.contains("verifier rejected") == true)
            #expect(lines.first?.contains("invalid access to map value") == true)

            let full = try bpfleet(["-n", server.address, "--verifier-log", "probe", "load", program, "--name", "bad"])
            #expect(full.status == 1)
            #expect(full.stderr.contains("processed 7 insns"))
            #expect(full.stderr.contains("7: (79) r0 = *(u64 *)(r0 +64)"))
        }
    }

    @Test func aNodeThatNeverAnswersTimesOut() async throws {
        // A socket that accepts connections (in the kernel's backlog) and
        // never reads: the call must give up after --timeout.
        let path = NSTemporaryDirectory() + "bpfleet-silent-\(UInt32.random(in: 0...UInt32.max)).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(fd, 8) == 0)

        let started = Date()
        let result = try bpfleet(["-n", "unix:\(path)", "--timeout", "1", "-o", "json", "node", "info"])
        #expect(result.status == 1)
        #expect(result.json?.arrayValue.first?["error"]?["kind"] == "timeout")
        #expect(Date().timeIntervalSince(started) < 8)
    }
}

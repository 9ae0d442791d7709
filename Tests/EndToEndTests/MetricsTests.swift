import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `bpfleetd --metrics-listen` and `node.metrics` (docs/metrics.md), with a
/// real bpfleetd: exact counts after known calls, the probes and their
/// programs' run counts against bpftool, the endpoint's HTTP answers and
/// bounds, and TLS scrapes by role.
@Suite(.requiresServer)
struct MetricsTests {
    @Test(.requiresKernel) func countsCallsProbesAndRunsExactly() async throws {
        try await withMetricsServer { server, port in
            let node = ["-n", server.address]
            for _ in 0..<3 { #expect(try bpfleet(node + ["node", "info"]).status == 0) }
            let first = try Self.scrape(port)
            try Self.promtool(first)
            #expect(Self.value(first, #"bpfleet_rpc_calls_total{method="node.info",code="0"}"#) == "3")
            #expect(Self.value(first, #"bpfleet_rpc_call_duration_seconds_count{method="node.info"}"#) == "3")
            #expect(Self.value(first, #"bpfleet_probes{state="running",origin="loaded"}"#) == "0.0")
            // An unknown method and a refusal count by their codes.
            #expect(try bpfleet(node + ["call", "no.such.method"]).status != 0)
            #expect(try bpfleet(node + ["probe", "get", "nothing-here"]).status != 0)
            let second = try Self.scrape(port)
            #expect(Self.value(second, #"bpfleet_rpc_calls_total{method="unknown",code="-32601"}"#) == "1")
            #expect(Self.value(second, #"bpfleet_rpc_calls_total{method="probe.get",code="-32003"}"#) == "1")

            // A probe, attached while something execs, then detached: its
            // run count stands still and is the kernel's.
            let load = try bpfleet(node + ["-o", "json", "probe", "load", TestEnvironment.programPath("exec_count"), "--name", "execs"])
            #expect(load.status == 0, "\(load.stderr)")
            let attach = try bpfleet(node + ["-o", "json", "probe", "attach", "execs", "count_exec", "--auto"])
            #expect(attach.status == 0, "\(attach.stderr)")
            for _ in 0..<3 { try run("/bin/true", []) }
            #expect(try bpfleet(node + ["probe", "detach", "execs", "1"]).status == 0)
            let probe = try bpfleet(node + ["-o", "json", "probe", "get", "execs"])
            let programID = try #require(probe.json?.arrayValue.first?["result"]?["programs"]?.arrayValue.first?["id"]?.int64Value)
            let loaded = try Self.scrape(port)
            try Self.promtool(loaded)
            #expect(Self.value(loaded, #"bpfleet_probes{state="running",origin="loaded"}"#) == "1.0")
            // The load, the attach and the detach each wrote the desired state once.
            #expect(Self.value(loaded, "bpfleet_desired_state_write_seconds_count") == "3")
            #expect(Self.value(loaded, #"bpfleet_desired_state_write_seconds_bucket{le="+Inf"}"#) == "3")
            let series = #"bpfleet_program_runs_total{probe="execs",program="count_exec",id="\#(programID)",type="tracepoint"}"#
            let runs = try #require(Self.value(loaded, series).flatMap { Int($0) })
            let witness = try #require(try Bpftool.show("prog", id: UInt32(programID)))
            #expect(runs >= 3)
            #expect(runs == (witness["run_cnt"] as? NSNumber)?.intValue)
            let seconds = Self.value(loaded, series.replacingOccurrences(of: "runs_total", with: "run_seconds_total")).flatMap { Double($0) }
            #expect(seconds == (witness["run_time_ns"] as? NSNumber).map { $0.doubleValue / 1e9 })

            // `bpfleet metrics` is the endpoint's text: the same series,
            // HELP and TYPE lines, and the same values but for the counts
            // that move with each call.
            _ = try bpfleet(node + ["metrics"])
            let command = try bpfleet(node + ["metrics"])
            #expect(command.status == 0)
            let endpoint = try Self.scrape(port)
            #expect(Self.shape(command.stdout) == Self.shape(endpoint))
            #expect(Self.value(command.stdout, series) == String(runs))
            #expect(Self.value(command.stdout, #"bpfleet_probes{state="running",origin="loaded"}"#) == "1.0")

            // Unloaded: its program's series go.
            #expect(try bpfleet(node + ["probe", "unload", "execs"]).status == 0)
            let unloaded = try Self.scrape(port)
            try Self.promtool(unloaded)
            #expect(!unloaded.contains(#"probe="execs""#))
            #expect(Self.value(unloaded, #"bpfleet_probes{state="running",origin="loaded"}"#) == "0.0")
        }
    }

    @Test func atMostSixtyFourConnectionsAtOnce() async throws {
        try await withMetricsServer(["--metrics-timeout", "300"]) { _, port in
            var held: [Int32] = []
            defer { held.forEach { close($0) } }
            // The listener takes connections in the order they came: with
            // 64 held open, the 65th is closed unanswered.
            for _ in 0..<64 { held.append(try loopbackConnection(port: port)) }
            let refused = try loopbackConnection(port: port)
            defer { close(refused) }
            #expect(endedWithoutAWord(refused))
            // One let go, a scrape is served again (once the listener has
            // seen that one close).
            close(held.removeLast())
            var served = false
            for _ in 0..<600 where !served {
                served = (try? Self.scrape(port)) != nil
                if !served { usleep(100_000) }
            }
            #expect(served)
        }
    }

    @Test func answersOnlyGetMetricsAndBoundsItsClients() async throws {
        try await withMetricsServer(["--metrics-timeout", "1"]) { _, port in
            let notFound = try Self.exchange(port, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(notFound.status == "HTTP/1.1 404 Not Found")
            let post = try Self.exchange(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
            #expect(post.status == "HTTP/1.1 405 Method Not Allowed")
            #expect(post.headers["allow"] == "GET")
            // A head over NIOHTTP1's limit: 400, and the connection ends.
            let huge = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + String(repeating: "a", count: 200_000) + "\r\n\r\n"
            #expect(try Self.exchange(port, huge).status == "HTTP/1.1 400 Bad Request")
            // A request that never ends: closed with no answer.
            #expect(try Self.exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n").raw.isEmpty)
            // A body over 64 KiB: closed with no answer.
            let body = "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "b", count: 100_000)
            #expect(try Self.exchange(port, body).raw.isEmpty)
            // OpenMetrics when asked for.
            let open = try Self.exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text; version=1.0.0\r\nConnection: close\r\n\r\n")
            #expect(open.status == "HTTP/1.1 200 OK")
            #expect(open.headers["content-type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8")
            #expect(open.body.hasSuffix("\n# EOF\n"))
            // Counters' families lose their _total in OpenMetrics; samples keep it.
            #expect(open.body.contains("# TYPE bpfleet_events_lost counter\nbpfleet_events_lost_total 0\n"))
            #expect(!open.body.contains("# TYPE bpfleet_events_lost_total"))
            // And it still serves.
            let plain = try Self.exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(plain.status == "HTTP/1.1 200 OK")
            #expect(plain.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            try Self.promtool(plain.body)
        }
    }

    @Test func tlsScrapesNeedARole() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            print("MetricsTests.tlsScrapesNeedARole: skipped, no /usr/bin/curl")
            return
        }
        let pki = try CommandLinePKI.make()
        defer { try? FileManager.default.removeItem(atPath: pki.directory) }
        let stranger = try run(TestEnvironment.bpfleet, ["cert", "client", "--ca", pki.directory + "/ca", "--name", "stranger", "--out", pki.directory])
        #expect(stranger.status == 0)
        try await withMetricsServer(["--tls-cert", pki.directory + "/node.pem", "--tls-key", pki.directory + "/node-key.pem",
                                     "--client-ca", pki.ca, "--roles", pki.roles]) { _, port in
            func curl(_ name: String?) throws -> (code: String, body: String) {
                var arguments = ["-sS", "--cacert", pki.ca, "-o", "-", "-w", "\n%{http_code}", "https://127.0.0.1:\(port)/metrics"]
                if let name { arguments += ["--cert", "\(pki.directory)/\(name).pem", "--key", "\(pki.directory)/\(name)-key.pem"] }
                let out = String(decoding: try run("/usr/bin/curl", arguments).stdout, as: UTF8.self)
                let code = String(out.split(separator: "\n", omittingEmptySubsequences: false).last ?? "")
                return (code, String(out.dropLast(code.count + 1)))
            }
            let viewer = try curl("watcher")
            #expect(viewer.code == "200")
            #expect(viewer.body.contains("# TYPE bpfleet_probes gauge"))
            let noRole = try curl("stranger")
            #expect(noRole.code == "403")
            #expect(noRole.body == "forbidden: this client certificate has no role on this node\n")
            // No certificate: the handshake is refused, no HTTP status at all.
            #expect(try curl(nil).code == "000")
            // Plain HTTP on the TLS port gets nothing either.
            #expect(try Self.exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status != "HTTP/1.1 200 OK")
        }
    }

    // MARK: Helpers

    /// What one raw HTTP exchange got back, the connection read to its end.
    struct Response {
        var raw: String
        /// The status line ("\r\n" is one Character to Swift: split as text).
        var status: String { raw.components(separatedBy: "\r\n").first ?? "" }
        var headers: [String: String] {
            var fields: [String: String] = [:]
            let head = raw.components(separatedBy: "\r\n\r\n").first ?? ""
            for line in head.components(separatedBy: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return fields
        }
        var body: String {
            guard let range = raw.range(of: "\r\n\r\n") else { return "" }
            return String(raw[range.upperBound...])
        }
    }

    /// Sends `request` on a new loopback connection and reads until the
    /// server closes it.
    static func exchange(_ port: UInt16, _ request: String) throws -> Response {
        let fd = try loopbackConnection(port: port)
        defer { close(fd) }
        var bytes = Array(request.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { break }  // the server closed first (a head over its limit)
            offset += sent
        }
        bytes = []
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 60_000) > 0 else { throw TestFailure("no end to the exchange in 60 s") }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return Response(raw: String(decoding: received, as: UTF8.self))
    }

    static func scrape(_ port: UInt16) throws -> String {
        let response = try exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        guard response.status == "HTTP/1.1 200 OK" else { throw TestFailure("scrape: \(response.status)") }
        return response.body
    }

    /// The value of the sample `series` (name and labels, as rendered).
    static func value(_ text: String, _ series: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return String(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// The text without its values: HELP and TYPE lines, and each sample's
    /// series, sorted (the registry renders families in no fixed order).
    static func shape(_ text: String) -> [String] {
        text.split(separator: "\n").map { line in
            line.hasPrefix("#") ? String(line) : String(line[..<(line.lastIndex(of: " ") ?? line.endIndex)])
        }.sorted()
    }

    /// `promtool check metrics` on the text; skipped (with a line saying
    /// so) where promtool is not installed.
    static func promtool(_ text: String) throws {
        guard let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: FileManager.default.isExecutableFile) else {
            print("MetricsTests: promtool check metrics skipped: promtool is not installed (apt-get install prometheus)")
            return
        }
        let file = NSTemporaryDirectory() + "bpfleet-metrics-\(UInt32.random(in: 0...UInt32.max)).txt"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try run("/bin/sh", ["-c", "\"$0\" check metrics < \"$1\"", promtool, file])
        #expect(result.status == 0, "promtool: \(String(decoding: result.stdout + result.stderr, as: UTF8.self))")
    }
}

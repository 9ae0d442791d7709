import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Map exports (docs/metrics.md, "Map exports"), with a real bpfleetd and a
/// real Prometheus server: a probe counting exactly N calls exports N, read
/// back through Prometheus' query API; histograms fed known values have
/// the exact buckets; every decoder's label; the per-probe cap; unloading
/// removes the series; bad declarations get their precise errors and leave
/// nothing behind; the exports survive a restart with the desired state.
@Suite(.requiresServer)
struct MetricsExportTests {
    static let exportsFile = """
        - map: calls
          name: getpgid_calls_total
          help: getpgid calls of the target process.
          kind: counter
          labels:
            - {name: syscall, field: nr, decoder: syscall}
            - {name: cgroup, field: cgroup, decoder: cgroup}
            - {name: comm, field: comm}
        - map: latency
          name: getpgid_arg
          help: getpgid's argument.
          kind: histogram
          value: slots
          sum: sum
          buckets: {type: log2}
        - map: spread
          name: getpgid_arg_spread
          kind: histogram
          value: slots
          buckets: {type: linear, width: 10, multiplier: 0.001}
        - map: decoded
          name: decoded_level
          kind: gauge
          value: level
          labels:
            - {name: fn, field: addr, decoder: ksym}
            - {name: err, field: err, decoder: errno}
            - {name: v4, field: v4, decoder: ipv4}
            - {name: v6, field: v6, decoder: ipv6}
            - {name: syscall, field: nr, decoder: syscall}
            - {name: level, field: level, decoder: static, values: {"0": low, "1": "mid \\"quoted\\""}}
            - {name: cg, field: cgroup, decoder: cgroup}

        """

    /// getpgid's arguments: 200 calls of each. log2 slots 0, 1, 4, 7, 12;
    /// linear slots (ARG % 100 / 10) 0, 0, 2, 5, 9.
    static let arguments: [Int32] = [1, 3, 27, 150, 5099]
    static let rounds = 200

    /// A process that makes getpgid calls when told to: `python3` (its
    /// command name) reading a line of arguments per batch on stdin, in
    /// `cgroup` (a cgroup v2 directory) when given.
    final class Caller {
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        var pid: Int32 { process.processIdentifier }

        init(cgroup: String? = nil) throws {
            let script = """
                import os, sys
                for line in sys.stdin:
                    for a in line.split():
                        try: os.getpgid(int(a))
                        except OSError: pass
                    print("done", flush=True)
                """
            // The shell moves itself into the cgroup and becomes python:
            // one process, one pid, from start to end.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "\(cgroup == nil ? "" : "echo $$ > \"$0/cgroup.procs\" && ")exec /usr/bin/python3 -c \"$1\"",
                                 cgroup ?? "-", script]
            process.standardInput = input
            process.standardOutput = output
            try process.run()
        }

        /// Makes the calls and waits for the process to say it has.
        func call(_ arguments: [Int32]) throws {
            input.fileHandleForWriting.write(Data((arguments.map(String.init).joined(separator: " ") + "\n").utf8))
            guard output.fileHandleForReading.readLine(timeout: 120) == "done" else { throw TestFailure("the caller did not answer") }
        }

        func stop() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    func writeExports(_ server: ServerProcess, _ text: String = exportsFile) throws -> String {
        let path = server.directory + "/exports.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A process' cgroup v2, as /proc says it (`0::/PATH`).
    static func cgroupPath(of pid: Int32) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
    }

    @Test(.requiresKernel) func exactCountsAndBucketsThroughPrometheus() async throws {
        guard PrometheusServer.executable != nil else {
            print("MetricsExportTests.exactCountsAndBucketsThroughPrometheus: skipped, prometheus is not installed (scripts/setup.sh installs it)")
            return
        }
        let cgroup = try TestCgroup.create()
        defer { cgroup.remove() }
        try await withMetricsServer { server, port in
            let node = ["-n", server.address]
            let caller = try Caller(cgroup: cgroup.path)
            defer { caller.stop() }
            let load = try bpfleet(node + ["-o", "json", "probe", "load", TestEnvironment.programPath("metrics_export"), "--name", "mx",
                                           "--global", "target_tgid=\(caller.pid)", "--metrics", try writeExports(server)])
            #expect(load.status == 0, "\(load.stderr)")
            #expect(load.json?.arrayValue.first?["result"]?["metrics"]?.arrayValue.count == 4)
            let attach = try bpfleet(node + ["probe", "attach", "mx", "on_getpgid", "--auto"])
            #expect(attach.status == 0, "\(attach.stderr)")
            for _ in 0..<Self.rounds { try caller.call(Self.arguments) }

            let prometheus = try PrometheusServer(scraping: ["127.0.0.1:\(port)"])
            defer { prometheus.stop() }
            let calls = try prometheus.waitFor("getpgid_calls_total") { $0.first?.value == "1000" }
            #expect(calls.count == 1)
            #expect(calls.first?.value == "1000")
            // The cgroup's path under the cgroup v2 root, as /proc says it too.
            let cgroupRoot = try #require(TestCgroup.root)
            let relative = String(cgroup.path.dropFirst(cgroupRoot.count))
            #expect(Self.cgroupPath(of: caller.pid) == relative)
            #expect(calls.first?.labels == ["probe": "mx", "syscall": "getpgid", "cgroup": relative, "comm": "python3"])

            // Cumulative: 200 at le=1 (1), 400 at 3, 600 at 31 (27),
            // 800 at 255 (150), 1000 from 8191 (5099).
            let buckets = try prometheus.waitFor("getpgid_arg_bucket") { $0.count == 21 }
            var expected: [String: String] = ["+Inf": "1000"]
            for slot in 0..<20 {
                let bound = String((1 << (slot + 1)) - 1)
                expected[bound] = slot >= 12 ? "1000" : slot >= 7 ? "800" : slot >= 4 ? "600" : slot >= 1 ? "400" : "200"
            }
            #expect(Dictionary(uniqueKeysWithValues: buckets.compactMap { sample in sample.labels["le"].map { ($0, sample.value) } }) == expected)
            #expect(try prometheus.query("getpgid_arg_sum").first?.value == String(Self.rounds * Int(Self.arguments.reduce(0, +))))
            #expect(try prometheus.query("getpgid_arg_count").first?.value == "1000")
            // Linear, per CPU (summed), in slots of 10 scaled by 0.001:
            // 400 in slot 0 (1, 3), 600 from slot 2 (27), 800 from 5, 1000 at 9.
            let spread = try prometheus.query("getpgid_arg_spread_bucket")
            let spreadByBound = Dictionary(uniqueKeysWithValues: spread.compactMap { sample in sample.labels["le"].map { ($0, sample.value) } })
            #expect(spreadByBound == ["0.009": "400", "0.019": "400", "0.029": "600", "0.039": "600", "0.049": "600",
                                      "0.059": "800", "0.069": "800", "0.079": "800", "0.089": "800", "0.099": "1000", "+Inf": "1000"])

            // Every scrape the suite makes passes promtool, as text and as OpenMetrics.
            let text = try MetricsTests.scrape(port)
            try MetricsTests.promtool(text)
            #expect(MetricsTests.value(text, #"bpfleet_map_export_entries{probe="mx",metric="getpgid_calls_total"}"#) == "1")
            #expect(MetricsTests.value(text, #"bpfleet_map_export_truncated{probe="mx",metric="getpgid_calls_total"}"#) == "0")

            // More calls: Prometheus follows.
            try caller.call([1, 1, 1])
            let more = try prometheus.waitFor("getpgid_calls_total") { $0.first?.value == "1003" }
            #expect(more.first?.value == "1003")

            // Unloaded: its series go from the endpoint, and Prometheus
            // marks them stale at its next scrape.
            #expect(try bpfleet(node + ["probe", "unload", "mx"]).status == 0)
            let after = try MetricsTests.scrape(port)
            try MetricsTests.promtool(after)
            #expect(!after.contains("getpgid_"))
            #expect(!after.contains(#"probe="mx""#))
            let gone = try prometheus.waitFor("getpgid_calls_total") { $0.isEmpty }
            #expect(gone.isEmpty)
        }
    }

    @Test(.requiresKernel) func everyDecoderAndTheProbeFilter() async throws {
        try await withMetricsServer { server, port in
            let node = ["-n", server.address]
            let load = try bpfleet(node + ["probe", "load", TestEnvironment.programPath("metrics_export"), "--name", "mx",
                                           "--metrics", try writeExports(server)])
            #expect(load.status == 0, "\(load.stderr)")
            // Another probe with no exports: `metrics mx` leaves it out.
            #expect(try bpfleet(node + ["probe", "load", TestEnvironment.programPath("exec_count"), "--name", "other"]).status == 0)
            let symbol = try #require(Self.kernelSymbol())
            let cgroupRoot = try #require(TestCgroup.root)
            let root = try #require(Self.inode(of: cgroupRoot))
            let key = #"{"addr": \#(symbol.address + 4), "err": -2, "v4": [10,1,2,3], "v6": [32,1,13,184,0,0,0,0,0,0,0,0,0,0,0,1], "nr": \#(Self.execveNumber), "level": 1, "cgroup": \#(root)}"#
            #expect(try bpfleet(node + ["map", "update", "mx", "decoded", key, #"{"level": -7}"#]).status == 0)
            // What no decoder knows reads as its number (hex for an address).
            let unknown = #"{"addr": 5, "err": 9999, "nr": 99999, "level": 7, "cgroup": 12345}"#
            #expect(try bpfleet(node + ["map", "update", "mx", "decoded", unknown, #"{"level": 3}"#]).status == 0)

            let text = try MetricsTests.scrape(port)
            try MetricsTests.promtool(text)
            let known = #"decoded_level{probe="mx",fn="\#(symbol.name)",err="ENOENT",v4="10.1.2.3",v6="2001:db8::1",syscall="execve",level="mid \"quoted\"",cg="/"}"#
            #expect(MetricsTests.value(text, known) == "-7")
            let raw = #"decoded_level{probe="mx",fn="0x5",err="9999",v4="0.0.0.0",v6="::",syscall="99999",level="7",cg="12345"}"#
            #expect(MetricsTests.value(text, raw) == "3")
            #expect(text.contains("# HELP decoded_level Map decoded of probe mx.\n# TYPE decoded_level gauge\n"))
            #expect(MetricsTests.value(text, #"bpfleet_map_export_entries{probe="mx",metric="decoded_level"}"#) == "2")

            // `bpfleet metrics mx`: only mx's series, exports included.
            let only = try bpfleet(node + ["metrics", "mx"])
            #expect(only.status == 0, "\(only.stderr)")
            #expect(MetricsTests.value(only.stdout, known) == "-7")
            #expect(!only.stdout.contains(#"probe="other""#))
            #expect(!only.stdout.contains("bpfleet_rpc_calls_total"))
            #expect(only.stdout.contains(#"bpfleet_program_runs_total{probe="mx",program="on_getpgid""#))
            try MetricsTests.promtool(only.stdout)
            let whole = try bpfleet(node + ["metrics"])
            #expect(whole.stdout.contains(#"bpfleet_program_runs_total{probe="other""#))
            let missing = try bpfleet(node + ["-o", "json", "metrics", "nothing"])
            #expect(missing.status != 0)
            #expect(missing.json?.arrayValue.first?["error"]?["code"]?.int64Value == -32003)
            #expect(try bpfleet(node + ["probe", "unload", "mx"]).status == 0)
            #expect(try bpfleet(node + ["probe", "unload", "other"]).status == 0)
        }
    }

    @Test(.requiresKernel) func aProbeExportsAtMostTheCapAndSaysSo() async throws {
        try await withMetricsServer(["--metrics-max-entries", "3"]) { server, port in
            let node = ["-n", server.address]
            let exports = """
                - map: decoded
                  name: decoded_level
                  kind: gauge
                  value: level
                  labels: [{name: syscall, field: nr}]
                - map: calls
                  name: getpgid_calls_total
                  kind: counter

                """
            #expect(try bpfleet(node + ["probe", "load", TestEnvironment.programPath("metrics_export"), "--name", "mx",
                                        "--metrics", try writeExports(server, exports)]).status == 0)
            for nr in 0..<5 {
                #expect(try bpfleet(node + ["map", "update", "mx", "decoded", #"{"nr": \#(nr)}"#, #"{"level": \#(nr * 10)}"#]).status == 0)
            }
            let text = try MetricsTests.scrape(port)
            try MetricsTests.promtool(text)
            let samples = text.split(separator: "\n").filter { $0.hasPrefix("decoded_level{") }
            #expect(samples.count == 3)
            for sample in samples {
                // Each exported sample is an entry as it is in the map.
                let nr = sample.split(separator: "\"")[3]
                #expect(sample.hasSuffix(" \(Int(nr).map { $0 * 10 } ?? -1)"))
            }
            #expect(MetricsTests.value(text, #"bpfleet_map_export_entries{probe="mx",metric="decoded_level"}"#) == "3")
            #expect(MetricsTests.value(text, #"bpfleet_map_export_truncated{probe="mx",metric="decoded_level"}"#) == "1")
            // The cap is the probe's: nothing is left for its second export,
            // whose map is empty, so it is not cut short.
            #expect(MetricsTests.value(text, #"bpfleet_map_export_entries{probe="mx",metric="getpgid_calls_total"}"#) == "0")
            #expect(MetricsTests.value(text, #"bpfleet_map_export_truncated{probe="mx",metric="getpgid_calls_total"}"#) == "0")
            #expect(try bpfleet(node + ["probe", "unload", "mx"]).status == 0)
        }
    }

    @Test(.requiresKernel) func badDeclarationsGetTheirErrorAndLeaveNothing() async throws {
        try await withServer { server in
            let connection = try LineClient(path: server.socketPath)
            let objectId = try connection.upload("metrics_export")
            let pinsBefore = server.pins()
            let calls: JSONValue = ["map": "calls", "name": "calls_total", "kind": "counter"]
            func load(_ metrics: [JSONValue], name: String = "bad") throws -> JSONValue {
                try connection.request("probe.load", ["name": .string(name), "objectId": .string(objectId), "metrics": .array(metrics)])
            }
            func with(_ base: JSONValue, _ changes: [String: JSONValue]) -> JSONValue {
                guard case .object(var fields) = base else { return base }
                for (key, value) in changes { fields[key] = value }
                return .object(fields)
            }
            let cases: [(JSONValue, String, String)] = [
                (with(calls, ["labels": [["name": "pid", "field": "pidd"]]]), "metrics[0].labels[0].field",
                 "metrics[0].labels[0].field: the key of map 'calls' (struct call_key) has no member 'pidd' (members: nr, pad, cgroup, comm)"),
                (with(calls, ["labels": [["name": "x", "field": "comm.a"]]]), "metrics[0].labels[0].field",
                 "metrics[0].labels[0].field: the key of map 'calls''s member 'comm' is an array of 16 char, which has no members ('a' asked for)"),
                (with(calls, ["map": "nope"]), "metrics[0].map",
                 "metrics[0].map: the object has no map 'nope' (maps: calls, latency, spread, decoded, .rodata)"),
                (with(calls, ["name": "calls"]), "metrics[0].name", "metrics[0].name: a counter's name ends in _total ('calls_total')"),
                (with(calls, ["name": "bpfleet_calls_total"]), "metrics[0].name", "metrics[0].name: names starting 'bpfleet_' are bpfleetd's own metrics"),
                (with(calls, ["name": "9calls_total"]), "metrics[0].name",
                 "metrics[0].name: '9calls_total' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, at most 200 bytes)"),
                (with(calls, ["kind": "summary"]), "metrics[0].kind", "metrics[0].kind: 'summary' is not a kind (counter, gauge, histogram)"),
                (with(calls, ["labels": [["name": "comm", "field": "comm", "decoder": "ipv4"]]]), "metrics[0].labels[0].decoder",
                 "metrics[0].labels[0].decoder: ipv4 reads 4 bytes (an IPv4 address); the member 'comm' of map 'calls' is an array of 16 char"),
                (with(calls, ["labels": [["name": "nr", "field": "nr", "decoder": "rot13"]]]), "metrics[0].labels[0].decoder",
                 "metrics[0].labels[0].decoder: 'rot13' is not a decoder (ksym, ipv4, ipv6, syscall, cgroup, errno, static)"),
                (with(calls, ["labels": [["name": "le", "field": "nr"]]]), "metrics[0].labels[0].name",
                 "metrics[0].labels[0].name: 'le' is set by bpfleet (reserved: probe, le)"),
                (with(calls, ["labels": [["name": "nr", "field": "nr", "decoder": "static"]]]), "metrics[0].labels[0].values",
                 "metrics[0].labels[0].values: the static decoder needs values ({\"1\": \"read\", ...})"),
                (["map": "latency", "name": "lat", "kind": "histogram", "buckets": ["type": "log2"]], "metrics[0].value",
                 "metrics[0].value: the value of map 'latency' is struct log2_hist; a histogram reads an array of integers (its slots) (name the member with value:)"),
                (["map": "latency", "name": "lat", "kind": "histogram", "value": "slots"], "metrics[0].buckets",
                 "metrics[0].buckets: a histogram needs buckets ({type: log2} or {type: linear, width: N})"),
                (["map": "latency", "name": "lat", "kind": "histogram", "value": "slots", "buckets": ["type": "linear"]], "metrics[0].buckets.width",
                 "metrics[0].buckets.width: a linear histogram needs a width of at least 1"),
                (["map": "latency", "name": "lat", "kind": "gauge", "value": "slots"], "metrics[0].value",
                 "metrics[0].value: the value of map 'latency''s member 'slots' is an array of 20 unsigned 64-bit integer; a gauge reads an integer"),
                ([calls, with(calls, ["map": "decoded"])], "metrics[1].name", "metrics[1].name: 'calls_total' is exported twice by this probe"),
            ].map { ($0.0, $0.1, $0.2) }
            for (metrics, field, message) in cases {
                let list: [JSONValue]
                if case .array(let several) = metrics { list = several } else { list = [metrics] }
                let answer = try load(list)
                #expect(answer["error"]?["code"]?.int64Value == -32602, "\(field): \(answer)")
                #expect(answer["error"]?["message"]?.stringValue == message)
                #expect(answer["error"]?["data"]?["field"]?.stringValue == field)
            }
            // A name another probe exports as another kind: a conflict.
            #expect(try load([["map": "decoded", "name": "level", "kind": "gauge", "value": "level"]], name: "first")["result"] != nil)
            let clash = try load([["map": "latency", "name": "level", "kind": "histogram", "value": "slots", "buckets": ["type": "log2"]]])
            #expect(clash["error"]?["code"]?.int64Value == -32004)
            #expect(clash["error"]?["message"]?.stringValue == "metrics[0].name: probe 'first' exports 'level' as a gauge, not a histogram")
            #expect(clash["error"]?["data"]?["field"]?.stringValue == "metrics[0].name")
            _ = try connection.call("probe.unload", ["probe": "first"])

            // Nothing of the refused loads is left: no probe, pin or state.
            let list = try connection.call("probe.list", [:])
            #expect(list["probes"]?.arrayValue.isEmpty == true)
            #expect(server.pins() == pinsBefore)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: server.stateDirectory + "/probes"))?.isEmpty ?? true)
        }
    }

    @Test(.requiresKernel) func exportsSurviveARestartAndAReplace() async throws {
        try await withMetricsServer { server, port in
            let node = ["-n", server.address]
            let exports = "- {map: decoded, name: decoded_level, kind: gauge, value: level, labels: [{name: nr, field: nr, decoder: syscall}]}\n"
            #expect(try bpfleet(node + ["probe", "load", TestEnvironment.programPath("metrics_export"), "--name", "mx",
                                        "--metrics", try writeExports(server, exports)]).status == 0)
            #expect(try bpfleet(node + ["map", "update", "mx", "decoded", #"{"nr": 0}"#, #"{"level": 5}"#]).status == 0)
            let state = try String(contentsOfFile: server.stateDirectory + "/probes/mx.json", encoding: .utf8)
            #expect(state.contains(#""metrics":[{"#))
            try server.restart()
            let adopted = try MetricsTests.scrape(port)
            try MetricsTests.promtool(adopted)
            #expect(MetricsTests.value(adopted, #"decoded_level{probe="mx",nr="read"}"#) == "5")
            let get = try bpfleet(node + ["-o", "json", "probe", "get", "mx"])
            #expect(get.json?.arrayValue.first?["result"]?["origin"]?.stringValue == "adopted")
            #expect(get.json?.arrayValue.first?["result"]?["metrics"]?.arrayValue.first?["name"]?.stringValue == "decoded_level")

            // A replace that keeps the map and exports it under a new name.
            let renamed = "- {map: decoded, name: decoded_now, kind: gauge, value: level}\n"
            let replace = try bpfleet(node + ["probe", "load", TestEnvironment.programPath("metrics_export"), "--name", "mx", "--replace",
                                              "--keep-map", "decoded", "--metrics", try writeExports(server, renamed)])
            #expect(replace.status == 0, "\(replace.stderr)")
            let replaced = try MetricsTests.scrape(port)
            try MetricsTests.promtool(replaced)
            #expect(!replaced.contains("decoded_level"))
            #expect(MetricsTests.value(replaced, #"decoded_now{probe="mx"}"#) == "5")
            #expect(try bpfleet(node + ["probe", "unload", "mx"]).status == 0)
        }
    }

    // MARK: Helpers

    /// x86_64's and aarch64's execve.
    static var execveNumber: Int {
        #if arch(arm64)
        221
        #else
        59
        #endif
    }

    /// A global kernel function from kallsyms (its address shown: the
    /// tests run as root).
    static func kernelSymbol() -> (name: String, address: UInt64)? {
        // A /proc file says it is empty: read it to its end.
        guard let data = FileHandle(forReadingAtPath: "/proc/kallsyms")?.readDataToEndOfFile() else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[1] == "T", parts[2].hasPrefix("__x64_sys_getpid") || parts[2].hasPrefix("__arm64_sys_getpid"),
                  let address = UInt64(parts[0], radix: 16), address != 0 else { continue }
            return (String(parts[2]), address)
        }
        return nil
    }

    static func inode(of path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }
}

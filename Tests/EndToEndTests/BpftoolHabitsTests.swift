import BpfleetShared
import Foundation
import TestSupport
import Testing

/// What bpftool users expect of the command line (issue 17): `--auto`
/// says where it attached, map keys and values as hex bytes and as typed
/// JSON mixed as the BTF allows, and `events tail` naming the record types
/// it could decode with. bpftool witnesses what reached the kernel.
@Suite(.requiresKernel)
struct BpftoolHabitsTests {
    /// The table `bpfleet` prints: columns two spaces apart, no trailing blanks.
    private func table(_ rows: [[String]]) -> String {
        var widths: [Int] = []
        for row in rows {
            for (index, cell) in row.enumerated() {
                if index == widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }

    /// A map's kernel id, from `probe get -o json`.
    private func mapID(_ node: [String], probe: String, map: String) throws -> UInt32 {
        let get = try bpfleet(node + ["-o", "json", "probe", "get", probe])
        let maps = get.json?.arrayValue.first?["result"]?["maps"]?.arrayValue ?? []
        return try #require(maps.first { $0["name"] == .string(map) }?["id"]?.uint64Value).asUInt32
    }

    /// `bpftool -j map lookup id ID key hex ...`: the value's bytes.
    private func bpftoolValue(mapID: UInt32, key: [String]) throws -> [String] {
        let result = try run(Bpftool.path, ["-j", "map", "lookup", "id", String(mapID), "key", "hex"] + key)
        try #require(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
        let entry = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        return (entry?["value"] as? [String]) ?? []
    }

    // MARK: probe attach --auto

    @Test func autoAttachShowsTheTargetTheSectionNamed() async throws {
        try await withServer { server in
            let node = ["-n", server.address]
            let load = try bpfleet(node + ["probe", "load", TestEnvironment.programPath("exec_count"), "--name", "execs"])
            #expect(load.status == 0, "\(load.stderr)")

            let attach = try bpfleet(node + ["probe", "attach", "execs", "count_exec", "--auto"])
            #expect(attach.status == 0, "\(attach.stderr)")
            let json = try bpfleet(node + ["-o", "json", "probe", "get", "execs"])
            let link = try #require(json.json?.arrayValue.first?["result"]?["links"]?.arrayValue.first)
            let kernelID = try #require(link["id"]?.uint64Value).asUInt32
            #expect(try Bpftool.exists("link", id: kernelID))
            #expect(link["target"] == ["type": "auto"])
            #expect(link["resolvedTarget"] == ["type": "tracepoint", "category": "sched", "name": "sched_process_exec"])
            let target = "tracepoint:sched/sched_process_exec (auto)"
            #expect(attach.stdout == table([["LINK ID", "ID", "PROGRAM", "TARGET"], ["1", String(kernelID), "count_exec", target]]))

            // probe get says it in the same words.
            let get = try bpfleet(node + ["probe", "get", "execs"])
            let row = get.stdout.split(separator: "\n").first { $0.hasPrefix("  1 ") }
            #expect(row?.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
                .prefix(4) == ["1", "count_exec", target, String(kernelID)])

            // A target given is shown as given (the kernel takes a program
            // once per tracepoint: another one).
            let given = try bpfleet(node + ["-o", "json", "probe", "attach", "execs", "count_exec", "--tracepoint", "sched:sched_process_fork"])
            let second = try #require(given.json?.arrayValue.first?["result"], "\(given.stdout) \(given.stderr)")
            #expect(second["target"] == ["type": "tracepoint", "category": "sched", "name": "sched_process_fork"])
            #expect(second["resolvedTarget"] == nil)
            let givenTable = try bpfleet(node + ["probe", "get", "execs"])
            #expect(givenTable.stdout.split(separator: "\n").contains { $0.hasPrefix("  2 ") && $0.contains("  tracepoint:sched/sched_process_fork  ") })

            #expect(try bpfleet(node + ["probe", "unload", "execs"]).status == 0)
            #expect(try Bpftool.isGone("link", id: kernelID))
        }
    }

    // MARK: map lookup / update --format hex

    static let bash = ["62", "61", "73", "68"] + Array(repeating: "00", count: 12)

    @Test func hexBytesAreWrittenAsGivenAndPrintedAsBpftoolPrintsThem() async throws {
        try await withServer { server in
            let node = ["-n", server.address]
            #expect(try bpfleet(node + ["probe", "load", TestEnvironment.programPath("exec_count"), "--name", "execs"]).status == 0)
            let id = try mapID(node, probe: "execs", map: "exec_counts")

            // Spaced, run together, and mixed: the same bytes.
            let spaced = Self.bash.joined(separator: " ")
            let update = try bpfleet(node + ["map", "update", "execs", "exec_counts", spaced, "2a00000000000000", "--format", "hex"])
            #expect(update.status == 0, "\(update.stderr)")
            #expect(update.stdout == "execs/exec_counts: \(spaced) updated\n")
            #expect(try bpftoolValue(mapID: id, key: Self.bash) == ["0x2a", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00"])

            let runTogether = try bpfleet(node + ["map", "update", "execs", "exec_counts", Self.bash.joined(), "0x07 0 0 0 00000000", "--format", "hex"])
            #expect(runTogether.status == 0, "\(runTogether.stderr)")
            #expect(try bpftoolValue(mapID: id, key: Self.bash) == ["0x07", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00"])

            let lookup = try bpfleet(node + ["map", "lookup", "execs", "exec_counts", "6261 7368 000000000000000000000000", "--format", "hex"])
            #expect(lookup.status == 0, "\(lookup.stderr)")
            #expect(lookup.stdout == table([["KEY", "VALUE"], [spaced, "07 00 00 00 00 00 00 00"]]))
            let typed = try bpfleet(node + ["map", "lookup", "execs", "exec_counts", #"{"comm":"bash"}"#])
            #expect(typed.stdout == table([["KEY", "VALUE"], [#"{"comm":"bash"}"#, "7"]]))
            let dump = try bpfleet(node + ["map", "dump", "execs", "exec_counts", "--format", "hex"])
            #expect(dump.stdout == table([["KEY", "VALUE"], [spaced, "07 00 00 00 00 00 00 00"]]))

            // The node counts the bytes against the map.
            let short = try bpfleet(node + ["map", "lookup", "execs", "exec_counts", "62 61 73", "--format", "hex"])
            #expect(short.status == 1)
            #expect(short.stderr == "bpfleet: \(server.address): map.lookup: invalid params (-32602): "
                + "key: given 3 bytes, the map's key is 16 bytes (map 'exec_counts' key type: struct comm_key)\n")
            let long = try bpfleet(node + ["map", "update", "execs", "exec_counts", spaced, "01", "--format", "hex"])
            #expect(long.status == 1)
            #expect(long.stderr == "bpfleet: \(server.address): map.update: invalid params (-32602): "
                + "value: given 1 byte, the map's value is 8 bytes (map 'exec_counts' value type: __u64)\n")
            #expect(try bpftoolValue(mapID: id, key: Self.bash) == ["0x07", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00"])
        }
    }

    @Test(arguments: [
        (["0g"], "KEY: '0g' is not hex bytes: 'g' is not a hex digit (give bytes as 01 02 0a or 01020a)"),
        (["01020"], "KEY: '01020' has an odd number of hex digits (5); each byte is two (01 02 0a or 01020a)"),
        (["0x"], "KEY: '0x' is not hex bytes (give bytes as 01 02 0a or 01020a)"),
        (["  "], "KEY: no bytes given (give bytes as 01 02 0a or 01020a)"),
        (["01", "zz"], "VALUE: 'zz' is not hex bytes: 'z' is not a hex digit (give bytes as 01 02 0a or 01020a)"),
    ])
    func hexThatIsNotBytesIsRefusedBeforeAnyNodeIsAsked(arguments: [String], message: String) throws {
        let command = arguments.count == 1 ? "lookup" : "update"
        let result = try bpfleet(["-n", "unix:/nonexistent/bpfleetd.sock", "map", command, "p", "m"] + arguments + ["--format", "hex"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: \(message)\n"), "\(result.stderr)")
    }

    // MARK: typed keys, mixed

    @Test func typedKeysMixStringsNumbersAndHexAsTheBTFAllows() async throws {
        try await withServer { server in
            let node = ["-n", server.address]
            #expect(try bpfleet(node + ["probe", "load", TestEnvironment.programPath("metrics_export"), "--name", "mx"]).status == 0)
            let id = try mapID(node, probe: "mx", map: "calls")

            // struct call_key { __u32 nr; __u32 pad; __u64 cgroup; char comm[16]; }
            let update = try bpfleet(node + ["map", "update", "mx", "calls", #"{"nr":"0x27","cgroup":4096,"comm":"bash"}"#, "0x10"])
            #expect(update.status == 0, "\(update.stderr)")
            let key = ["27", "00", "00", "00", "00", "00", "00", "00", "00", "10", "00", "00", "00", "00", "00", "00"] + Self.bash
            #expect(try bpftoolValue(mapID: id, key: key) == ["0x10", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00"])

            // The same key in other words; the node answers in its own.
            for spelling in [#"{"nr":39,"cgroup":"0x1000","comm":[98,97,115,104]}"#, #"{"comm":"bash","cgroup":"4096","nr":"39","pad":0}"#] {
                let lookup = try bpfleet(node + ["map", "lookup", "mx", "calls", spelling])
                #expect(lookup.status == 0, "\(spelling): \(lookup.stderr)")
                #expect(lookup.stdout == table([["KEY", "VALUE"], [#"{"nr":39,"pad":0,"cgroup":4096,"comm":"bash"}"#, "16"]]), "\(spelling)")
            }

            // An integer key: a number, 0x hex, or a string of either.
            for spelling in ["0", "0x0", #""0""#, #""0x00""#] {
                let lookup = try bpfleet(node + ["-o", "json", "map", "lookup", "mx", "latency", spelling])
                #expect(lookup.json?.arrayValue.first?["result"]?["key"] == 0, "\(spelling): \(lookup.stderr)")
            }
            let notNumber = try bpfleet(node + ["map", "lookup", "mx", "latency", "0x0g"])
            #expect(notNumber.status == 1)
            #expect(notNumber.stderr == "bpfleet: \(server.address): map.lookup: invalid params (-32602): "
                + "key: expected an integer, got string (map 'latency' key type: __u32)\n")
            let tooBig = try bpfleet(node + ["map", "lookup", "mx", "calls", #"{"nr":"0x100000000"}"#])
            #expect(tooBig.stderr == "bpfleet: \(server.address): map.lookup: invalid params (-32602): "
                + "key.nr: out of range for an unsigned 32-bit integer (map 'calls' key type: struct call_key)\n")
        }
    }

    // MARK: events tail without --record-type

    @Test func eventsTailWithoutARecordTypeNamesTheStructsThatCouldDecodeIt() async throws {
        try await withServer { server in
            let node = ["-n", server.address]
            // A probe per tail of a ring buffer: each record goes to one
            // reader, and the node lets go of the last one's in its time.
            let snoop = try bpfleet(node + ["probe", "load", TestEnvironment.programPath("execsnoop"), "--name", "snoop",
                                            "--program", "execsnoop", "--program", "execsnoop_perf"])
            #expect(snoop.status == 0, "\(snoop.stderr)")
            for program in ["execsnoop", "execsnoop_perf"] {
                #expect(try bpfleet(node + ["probe", "attach", "snoop", program, "--auto"]).status == 0)
            }
            // Loaded, not attached: no record comes.
            for name in ["typed", "lines"] {
                let load = try bpfleet(node + ["probe", "load", TestEnvironment.programPath("execsnoop"), "--name", name, "--program", "execsnoop"])
                #expect(load.status == 0, "\(load.stderr)")
            }

            // Execs keep coming until both tails have had their record.
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            let stopExecuting = Workload.keepExecuting(binary.path)
            defer { stopExecuting() }
            let ring = try bpfleet(node + ["events", "tail", "snoop", "events", "--count", "1"])
            let perf = try bpfleet(node + ["events", "tail", "snoop", "perf_events", "--count", "1"])
            stopExecuting()

            #expect(ring.status == 0, "\(ring.stderr)")
            #expect(ring.stderr == "bpfleet: records of ring buffer 'events' are shown as hex bytes; "
                + "--record-type decodes them as one of the object's struct types: struct exec_event\n")
            // One struct exec_event: 284 bytes, in hex.
            #expect(ring.stdout.wholeMatch(of: /"[0-9a-f]{568}"\n/) != nil, "\(ring.stdout)")
            #expect(perf.status == 0, "\(perf.stderr)")
            #expect(perf.stderr == "bpfleet: records of perf event array 'perf_events' are shown as hex bytes; "
                + "--record-type decodes them as one of the object's struct types: struct exec_event\n")
            #expect(perf.stdout.wholeMatch(of: /"[0-9a-f]+"\n/) != nil, "\(perf.stdout)")

            // Asked for a type, or for lines for scripts: no note.
            let typed = try bpfleet(node + ["events", "tail", "typed", "events", "--record-type", "struct exec_event", "--duration", "50ms"])
            #expect(typed.status == 0, "\(typed.stderr)")
            #expect(typed.stdout == "")
            #expect(typed.stderr == "")
            let lines = try bpfleet(node + ["-o", "ndjson", "events", "tail", "lines", "events", "--duration", "50ms"])
            #expect(lines.status == 0, "\(lines.stdout) \(lines.stderr)")
            #expect(lines.stdout == "")
            #expect(lines.stderr == "")

            // A type the object lacks: refused with the same list.
            let wrong = try bpfleet(node + ["events", "tail", "typed", "events", "--record-type", "struct exec_evnt"])
            #expect(wrong.status == 1)
            #expect(wrong.stdout == "")
            #expect(wrong.stderr == "bpfleet: \(server.address): events.subscribe: invalid params (-32602): "
                + "recordType: the object has no BTF type 'struct exec_evnt' "
                + "(the object's struct types: struct exec_event)\n")

            let get = try bpfleet(node + ["-o", "json", "probe", "get", "snoop"])
            #expect(get.json?.arrayValue.first?["result"]?["recordTypes"] == ["struct exec_event"])
            let list = try bpfleet(node + ["-o", "json", "probe", "list"])
            let probes = list.json?.arrayValue.first?["result"]?["probes"]?.arrayValue ?? []
            #expect(probes.count == 3)
            #expect(probes.allSatisfy { $0["recordTypes"] == nil })
        }
    }
}

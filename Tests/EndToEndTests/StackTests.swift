import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `map.snapshot` with `symbolize` (stack_samples): a profiler's stack
/// trace map, sized at load as libbpf-tools size theirs, read as kernel
/// frames checked against /proc/kallsyms; a map of stack ids read with its
/// stacks; the folded stacks `map dump --stacks` prints.
@Suite(.requiresKernel)
struct StackTests {
    /// /proc/kallsyms as the test reads it: each text symbol's address by name.
    static func kallsyms() throws -> [String: Set<UInt64>] {
        var symbols: [String: Set<UInt64>] = [:]
        // Through cat: /proc files report a size of 0, and Foundation's readers stop short.
        let text = String(decoding: try run("/bin/cat", ["/proc/kallsyms"]).stdout, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 3, "tTwW".contains(parts[1]), let address = UInt64(parts[0], radix: 16) else { continue }
            symbols[String(parts[2]), default: []].insert(address)
        }
        return symbols
    }

    /// Every symbolized frame agrees with kallsyms: address - offset is where
    /// kallsyms puts the symbol. Returns the frames' symbols, innermost first.
    func checkFrames(_ frames: JSONValue?, _ symbols: [String: Set<UInt64>]) throws -> [String] {
        guard case .array(let list)? = frames else { throw TestFailure("no frames: \(String(describing: frames))") }
        var names: [String] = []
        for frame in list {
            let address = try #require(frame["address"]?.stringValue.flatMap { UInt64($0.dropFirst(2), radix: 16) })
            guard let symbol = frame["symbol"]?.stringValue, let offset = frame["offset"]?.uint64Value else {
                #expect(frame["reason"] != nil, "\(frame)")
                continue
            }
            #expect(symbols[symbol]?.contains(address - offset) == true, "\(symbol)+\(offset) at 0x\(String(address, radix: 16))")
            names.append(symbol)
        }
        return names
    }

    @Test func kernelStacksReadAsTheFunctionsKallsymsNames() async throws {
        try await withServer { server in
            let client = try server.client()
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            try client.call("probe.load", [
                "name": "stacks", "objectId": .string(try client.upload("stack_samples")),
                "maps": ["stacks": ["maxEntries": 1024, "valueSize": 1016]],
                "globals": ["target_comm": .string(binary.comm)],
                "attach": [["program": "sample_exec_stack", "target": ["type": "auto"]]],
            ])
            try Workload.exec(binary.path, times: 5)
            let symbols = try Self.kallsyms()

            // The map of stack ids: every entry with its kernel stack; 5 execs in all.
            let counts = try client.call("map.snapshot", ["map": ["probe": "stacks", "name": "stack_counts"], "symbolize": true])
            let entries = counts["entries"]?.arrayValue ?? []
            #expect(entries.compactMap { $0["value"]?.uint64Value }.reduce(0, +) == 5)
            for entry in entries {
                #expect(entry["key"]?["comm"]?.stringValue == binary.comm)
                let names = try checkFrames(entry["stacks"]?["kern_stack_id"], symbols)
                // An exec's kernel stack passes through the exec system call.
                #expect(names.contains { $0.hasPrefix("do_execveat_common") || $0.hasPrefix("__x64_sys_execve") || $0 == "bprm_execve" },
                        "\(names)")
            }

            // map.lookup and map.watch take symbolize too, and say the same.
            let counted: JSONValue = ["probe": "stacks", "name": "stack_counts"]
            let first = try #require(entries.first)
            let looked = try client.call("map.lookup", ["map": counted, "key": try #require(first["key"]), "symbolize": true])
            #expect(looked["stacks"] == first["stacks"])
            #expect(looked["value"] == first["value"])
            let watch = try client.call("map.watch", ["map": counted, "intervalMs": 100, "symbolize": true])
            let notification = try #require(try client.nextNotification(timeout: 120))
            let watched = notification["params"]?["entries"]?.arrayValue.first { $0["key"] == first["key"] }
            #expect(watched?["stacks"] == first["stacks"])
            try client.call("subscription.cancel", ["subscription": try #require(watch["subscription"])])

            // The stack trace map itself: each value its frames, as the ids' stacks.
            let stacks = try client.call("map.snapshot", ["map": ["probe": "stacks", "name": "stacks"], "symbolize": true])
            let stackEntries = stacks["entries"]?.arrayValue ?? []
            #expect(!stackEntries.isEmpty)
            for entry in stackEntries { _ = try checkFrames(entry["value"], symbols) }
            // The stack map's keys have no BTF: little-endian hex of the id.
            let stackIDs = Set(stackEntries.compactMap { entry -> Int64? in
                guard let hex = entry["key"]?.stringValue, hex.count == 8 else { return nil }
                let bytes = stride(from: 0, to: 8, by: 2).compactMap { UInt8(hex.dropFirst($0).prefix(2), radix: 16) }
                return Int64(bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            })
            let ids = Set(entries.compactMap { $0["key"]?["kern_stack_id"]?.int64Value })
            #expect(!ids.isEmpty)
            #expect(ids.isSubset(of: stackIDs))

            // Folded stacks, root first, counted.
            let folded = try bpfleet(["-n", server.address, "map", "dump", "stacks", "stack_counts", "--stacks"])
            #expect(folded.status == 0, "\(folded.stderr)")
            let lines = folded.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == entries.count)
            #expect(lines.compactMap { $0.split(separator: " ").last.flatMap { UInt64($0) } }.reduce(0, +) == 5)
            for line in lines {
                let frames = line.split(separator: " ").dropLast().joined(separator: " ").split(separator: ";").map(String.init)
                #expect(frames.first == binary.comm)
                // The system call's entry is nearer the root than the tracepoint's handler.
                let entry = frames.firstIndex { $0.hasPrefix("do_syscall_64") || $0.hasPrefix("entry_SYSCALL") }
                let exec = frames.firstIndex { $0.hasPrefix("do_execveat_common") || $0 == "bprm_execve" }
                if let entry, let exec { #expect(entry < exec, "\(line)") }
            }

            // A map with no stacks says so.
            let plain = try client.callError("map.snapshot", ["map": ["probe": "stacks", "name": ".rodata"], "symbolize": true])
            #expect(plain.code == .invalidParams)
            #expect(plain.data?["field"] == "symbolize")
            try client.call("probe.unload", ["probe": "stacks"])
            #expect(server.pins() == [])
        }
    }

    @Test func userStacksReadAsTheTestBinarysFunctionsInOrder() async throws {
        let target = try NestedCallsTarget.build()
        defer { target.remove() }
        try await withServer { server in
            let client = try server.client()
            try client.call("probe.load", [
                "name": "ustacks", "objectId": .string(try client.upload("stack_samples")),
                "programs": ["sample_user_stack"],
                "maps": ["stacks": ["maxEntries": 1024, "valueSize": 1016]],
                // Past the probed function's frame set-up (push %rbp; mov %rsp,%rbp), so that
                // its caller is on the frame-pointer chain the kernel walks.
                "attach": [["program": "sample_user_stack",
                            "target": ["type": "uprobe", "binary": .string(target.path), "offset": .uint(try target.fileOffset() + 4)]]],
            ])
            let process = try target.start(calls: 3)
            defer { target.stop(process) }
            let map: JSONValue = ["probe": "ustacks", "name": "user_stack_counts"]
            func ours() throws -> JSONValue? {
                try client.call("map.snapshot", ["map": map, "symbolize": true])["entries"]?.arrayValue
                    .first { $0["key"]?["tgid"]?.int64Value == Int64(process.processIdentifier) }
            }
            _ = try settle(atLeast: 3) { try ours()?["value"]?.uint64Value ?? 0 }
            let entry = try #require(try ours())
            #expect(entry["value"] == 3)
            guard case .array(let frames)? = entry["stacks"]?["user_stack_id"] else {
                Issue.record("no user stack: \(entry)")
                return
            }
            let names = frames.map { $0["symbol"]?.stringValue ?? "?" }
            #expect(Array(names.prefix(5)) == ["bpfleet_probe_here", "bpfleet_leaf", "bpfleet_middle", "bpfleet_outer", "main"], "\(frames)")
            for frame in frames.prefix(5) {
                #expect(frame["module"]?.stringValue == target.path)
                #expect(frame["buildId"]?.stringValue == (try target.buildID()))
            }
            #expect(frames.first?["offset"] == 4)

            // Once the process is gone, its user stacks cannot be read, and say so.
            target.stop(process)
            let gone = try #require(try client.call("map.snapshot", ["map": map, "symbolize": true])["entries"]?.arrayValue
                .first { $0["key"]?["tgid"]?.int64Value == Int64(process.processIdentifier) })
            guard case .array(let after)? = gone["stacks"]?["user_stack_id"] else { throw TestFailure("no stack: \(gone)") }
            #expect(after.first?["reason"] == .string("process \(process.processIdentifier) has exited: its mappings are gone"))
            try client.call("probe.unload", ["probe": "ustacks"])
            #expect(server.pins() == [])
        }
    }
}

/// A binary whose main calls outer → middle → leaf → probe_here, built
/// with frame pointers (the kernel walks user stacks by them), which waits
/// for its stdin to close before it exits.
struct NestedCallsTarget {
    let directory: String
    var path: String { directory + "/nested_calls" }

    static func build() throws -> NestedCallsTarget {
        let directory = try temporaryDirectory("nested")
        let source = directory + "/nested_calls.c"
        try """
            #include <stdlib.h>
            #include <unistd.h>
            __attribute__((noinline)) void bpfleet_probe_here(void) { __asm__ volatile(""); }
            __attribute__((noinline)) void bpfleet_leaf(void) { bpfleet_probe_here(); __asm__ volatile(""); }
            __attribute__((noinline)) void bpfleet_middle(void) { bpfleet_leaf(); __asm__ volatile(""); }
            __attribute__((noinline)) void bpfleet_outer(void) { bpfleet_middle(); __asm__ volatile(""); }
            int main(int argc, char **argv) {
                int n = argc > 1 ? atoi(argv[1]) : 0;
                for (int i = 0; i < n; i++) bpfleet_outer();
                char c;
                return read(0, &c, 1) < 0;
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let cc = ["/usr/bin/cc", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "cc"
        try mustRun(cc, ["-O0", "-fno-omit-frame-pointer", "-fcf-protection=none", "-o", directory + "/nested_calls", source])
        return NestedCallsTarget(directory: directory)
    }

    func start(calls: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [String(calls)]
        process.standardInput = Pipe()
        try process.run()
        return process
    }

    func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// `bpfleet_probe_here`'s offset in the file, as uprobes take it.
    func fileOffset() throws -> UInt64 {
        try elfFileOffset(of: "bpfleet_probe_here", in: path)
    }

    /// The GNU build id, as readelf -n prints it.
    func buildID() throws -> String {
        let notes = try mustRun("/usr/bin/readelf", ["-nW", path])
        guard let line = notes.split(separator: "\n").first(where: { $0.contains("Build ID:") }),
              let id = line.split(separator: " ").last else { throw TestFailure("no build id") }
        return String(id)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

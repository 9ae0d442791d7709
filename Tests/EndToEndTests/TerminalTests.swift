import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `bpfleet` as a person sees it: run in a real terminal (a tmux pane on a
/// private tmux server), captured with its colours. Tables are coloured
/// there, not with NO_COLOR, not through a pipe; `map watch` draws its
/// live table and Ctrl-C ends it with status 0.
@Suite(.requiresKernel)
struct TerminalTests {
    /// A tmux server of its own (`-S`, a socket in a temporary directory),
    /// with one 160x40 pane per run.
    final class Pane {
        /// The server's socket, in a directory of its own removed at the end.
        let directory: String
        var socket: String { directory + "/tmux.sock" }

        init() throws {
            directory = try temporaryDirectory("tmux")
        }

        static let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

        func tmux(_ arguments: [String]) throws -> String {
            let tmux = try #require(Self.tmux, "tmux is not installed (scripts/setup.sh installs it)")
            let result = try run(tmux, ["-S", socket, "-f", "/dev/null"] + arguments)
            return String(decoding: result.stdout, as: UTF8.self)
        }

        /// Starts `command` under bash in a new pane, the environment given.
        /// The tmux server this starts lives on: it gets no pipe of ours
        /// (it would hold it open, and reading it would never end).
        func start(_ command: String, environment: [String: String] = [:]) throws {
            let tmux = try #require(Self.tmux, "tmux is not installed (scripts/setup.sh installs it)")
            let exports = environment.sorted { $0.key < $1.key }.map { "export \($0.key)='\($0.value)'; " }.joined()
            // The pane starts from the test's environment; NO_COLOR only when given.
            let script = "unset NO_COLOR; " + exports + command + "; echo \"exit $?\"; sleep 600"
            // The tmux server lives on after its client: it must hold none
            // of our descriptors (Foundation's Process waits for a socket
            // of its own to close before it calls a child done), so it is
            // started through Python's subprocess, which closes them all.
            let started = try run("/usr/bin/python3", ["-c", """
                import subprocess, sys
                sys.exit(subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, close_fds=True).returncode)
                """, tmux, "-S", socket, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "40",
                "bash", "--norc", "--noprofile", "-c", script])
            guard started.status == 0 else { throw TestFailure("tmux new-session exited \(started.status)") }
        }

        /// The pane's text: with `-e`, its colours as escape sequences.
        func capture(escapes: Bool) throws -> String {
            try tmux(["capture-pane", "-p"] + (escapes ? ["-e"] : []))
        }

        /// Waits until the pane shows what `done` looks for (or 60 s pass:
        /// a hang fails, it is not a timing).
        func wait(until done: (String) -> Bool) throws -> String {
            let deadline = Date().addingTimeInterval(60)
            while true {
                let text = try capture(escapes: false)
                if done(text) || Date() > deadline { return text }
                usleep(50_000)
            }
        }

        func stop() {
            // The pane's processes first, whole process groups: a test
            // runner may start us with SIGHUP ignored, and then what runs in
            // a pane outlives the hangup kill-server sends it, and the
            // server waits for it.
            let panes = (try? tmux(["list-panes", "-a", "-F", "#{pane_pid}"])) ?? ""
            for pid in panes.split(separator: "\n").compactMap({ Int32($0) }) where pid > 1 {
                kill(-pid, SIGKILL)
            }
            _ = try? tmux(["kill-server"])
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    func withPane(_ body: (Pane) throws -> Void) throws {
        let pane = try Pane()
        defer { pane.stop() }
        try body(pane)
    }

    static let escape = "\u{1B}["

    @Test func tablesAreColouredInATerminalOnlyAndNotWithNoColorOrThroughAPipe() async throws {
        try await withServer { server in
            let client = try server.client()
            _ = try client.call("probe.load", ["objectId": .string(try client.upload("exec_count")), "name": "tty",
                                               "attach": [["program": "count_exec", "target": ["type": "auto"]]]])
            let bpfleet = "\(TestEnvironment.bpfleet) -n \(server.address)"
            let piped = try TestSupport.bpfleet(["-n", server.address, "probe", "list"])
            #expect(!piped.stdout.contains(Self.escape))

            try withPane { pane in
                try pane.start("\(bpfleet) probe list")
                let shown = try pane.wait { $0.contains("exit ") }
                #expect(shown.contains("exit 0"), "\(shown)")
                let coloured = try pane.capture(escapes: true)
                // The header bold, the state green; the text itself as through a pipe.
                #expect(coloured.contains(Self.escape + "1mNAME"), "\(coloured)")
                #expect(coloured.contains(Self.escape + "32mrunning"), "\(coloured)")
                let tableLines = shown.split(separator: "\n").prefix(2).map { $0.split(separator: " ").joined(separator: " ") }
                let pipedLines = piped.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
                // RUNS may move between the two runs: compare the rest.
                #expect(tableLines.first == pipedLines.first)
                #expect(tableLines.last?.split(separator: " ").prefix(5) == pipedLines.last?.split(separator: " ").prefix(5))
            }
            for (command, environment) in [("\(bpfleet) probe list", ["NO_COLOR": "1"]), ("\(bpfleet) probe list | cat", [:]),
                                           ("\(bpfleet) probe list", ["TERM": "dumb"])] {
                try withPane { pane in
                    try pane.start(command, environment: environment)
                    let shown = try pane.wait { $0.contains("exit ") }
                    #expect(shown.contains("running") && shown.contains("exit 0"), "\(command) \(environment): \(shown)")
                    let captured = try pane.capture(escapes: true)
                    #expect(!captured.contains(Self.escape + "1m") && !captured.contains(Self.escape + "32m"), "\(command) \(environment): \(captured)")
                }
            }
            _ = try client.call("probe.unload", ["probe": "tty"])
        }
    }

    @Test func mapWatchDrawsItsLiveTableAndCtrlCEndsIt() async throws {
        try await withServer { server in
            let client = try server.client()
            // Loaded, not attached: the map holds what the test writes, nothing else.
            _ = try client.call("probe.load", ["objectId": .string(try client.upload("exec_count")), "name": "live"])
            let map: JSONValue = ["probe": "live", "name": "exec_counts"]
            _ = try client.call("map.update", ["map": map, "key": ["comm": "watched"], "value": 7])
            try withPane { pane in
                try pane.start("\(TestEnvironment.bpfleet) -n \(server.address) map watch live exec_counts --interval 200ms")
                func shows(_ row: String) -> (String) -> Bool {
                    { text in text.split(separator: "\n").contains { $0.split(separator: " ").joined(separator: " ").hasPrefix(row) } }
                }
                let shown = try pane.wait(until: shows("{\"comm\":\"watched\"} 7"))
                let lines = shown.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
                #expect(lines.first?.hasPrefix("map watch live/exec_counts every 200ms full ") == true, "\(shown)")
                #expect(lines.first?.hasSuffix(" Ctrl-C to stop") == true, "\(shown)")
                #expect(lines.contains { $0.hasPrefix("\(server.address) live/exec_counts seq ") && $0.hasSuffix(" 1 entry") }, "\(shown)")
                #expect(lines.contains("KEY VALUE RATE/s"), "\(shown)")
                #expect(lines.contains { $0.hasPrefix("{\"comm\":\"watched\"} 7") }, "\(shown)")
                // A change shows up in the same view.
                _ = try client.call("map.update", ["map": map, "key": ["comm": "watched"], "value": 10])
                let changed = try pane.wait(until: shows("{\"comm\":\"watched\"} 10"))
                #expect(shows("{\"comm\":\"watched\"} 10")(changed), "\(changed)")
                _ = try pane.tmux(["send-keys", "C-c"])
                let ended = try pane.wait { $0.contains("exit ") }
                #expect(ended.contains("exit 0"), "\(ended)")
            }
            _ = try client.call("probe.unload", ["probe": "live"])
        }
    }
}

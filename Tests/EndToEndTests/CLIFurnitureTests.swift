import BpfleetShared
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The rest of the command line's furniture (issue 17): manual pages made
/// from the command definitions, `make install`, and shell completions
/// that name the probes, maps and programs loaded on the node.
///
/// `make install` is run with BUILD_DIR set to the build under test (the
/// debug binaries; a release build would take the suite too long), which
/// installs those binaries and the pages `scripts/man.sh` generated from
/// them (`make test` runs it after building).
@Suite(.requiresServer)
struct CLIFurnitureTests {
    static let prefix = "/opt/bpfleet"

    /// Every file `make install` places, under PREFIX.
    static let installed = [
        "bin/bpfleet",
        "sbin/bpfleetd",
        "share/bash-completion/completions/bpfleet",
        "share/fish/vendor_completions.d/bpfleet.fish",
        "share/man/man1/bpfleet.1",
        "share/man/man8/bpfleetd.8",
        "share/zsh/site-functions/_bpfleet",
    ]

    @Test func makeInstallPlacesTheBinariesPagesAndCompletionsUnderDestdir() throws {
        try withInstall { root in
            #expect(files(under: root) == Self.installed.map { Self.prefix + "/" + $0 })
            let tree = root + Self.prefix
            for (name, path) in [("bpfleet", "bin/bpfleet"), ("bpfleetd", "sbin/bpfleetd")] {
                let built = TestEnvironment.binDirectory.appendingPathComponent(name).path
                #expect(FileManager.default.contentsEqual(atPath: "\(tree)/\(path)", andPath: built), "\(path)")
                #expect(try mode(of: "\(tree)/\(path)") == 0o755, "\(path)")
            }
            for path in Self.installed.filter({ $0.hasPrefix("share/") }) {
                #expect(try mode(of: "\(tree)/\(path)") == 0o644, "\(path)")
            }
            // Each completion script is the one bpfleet makes for its shell,
            // and asks bpfleet for probe names.
            for (shell, path) in [("bash", "share/bash-completion/completions/bpfleet"), ("zsh", "share/zsh/site-functions/_bpfleet"),
                                  ("fish", "share/fish/vendor_completions.d/bpfleet.fish")] {
                let script = try String(contentsOfFile: "\(tree)/\(path)", encoding: .utf8)
                let generated = try bpfleet(["--generate-completion-script", shell])
                #expect(generated.status == 0)
                #expect(script == generated.stdout, "\(shell)")
                #expect(script.contains("---completion probe get -- positional@0"), "\(shell)")
            }
        }
    }

    @Test func theManualNamesEveryCommandInOrder() throws {
        try withInstall { root in
            let page = try String(contentsOfFile: root + Self.prefix + "/share/man/man1/bpfleet.1", encoding: .utf8)
            let lines = page.split(separator: "\n").map(String.init)
            #expect(lines.contains(".Dt BPFLEET 1"))
            // Each command is an `.It Em NAME` item, its subcommands nested
            // after it: the commands of the binary, depth first.
            let items = lines.filter { $0.hasPrefix(".It Em ") }.map { String($0.dropFirst(".It Em ".count)) }
            let dump = try bpfleet(["--experimental-dump-help"])
            let command = try #require(dump.json?["command"])
            let names = Self.commandNames(command)
            #expect(names.count > 40)
            #expect(names.contains("watch") && names.contains("tail") && names.contains("openrpc"))
            #expect(items == names, "the page is stale or incomplete: scripts/man.sh generates it again")
        }
    }

    @Test func theDaemonsPageNamesEveryOption() throws {
        try withInstall { root in
            let page = try String(contentsOfFile: root + Self.prefix + "/share/man/man8/bpfleetd.8", encoding: .utf8)
            let lines = page.split(separator: "\n").map(String.init)
            #expect(lines.contains(".Dt BPFLEETD 8"))
            // The options are `.It Fl -state-dir Ar state-dir` items (mdoc's
            // Fl adds the first dash), up to the `help` subcommand's.
            let options = lines.prefix { !$0.hasPrefix(".It Em ") }.filter { $0.hasPrefix(".It Fl ") }.compactMap { line in
                line.split(separator: " ").dropFirst(2).first { $0.hasPrefix("-") }.map { "-" + $0 }
            }
            let run = try TestSupport.run(TestEnvironment.bpfleetd, ["--experimental-dump-help"])
            #expect(run.status == 0)
            let dump = try JSONDecoder().decode(JSONValue.self, from: run.stdout)
            let expected = (dump["command"]?["arguments"]?.arrayValue ?? []).filter { $0["shouldDisplay"] != .bool(false) }.compactMap { argument in
                argument["names"]?.arrayValue.first { $0["kind"]?.stringValue == "long" }?["name"]?.stringValue.map { "--" + $0 }
            }
            #expect(expected.count > 25)
            #expect(expected.contains("--state-dir") && expected.contains("--pin-root") && expected.contains("--refuse-program-types"))
            #expect(!expected.contains("--object-helper"))
            #expect(options == expected, "the page is stale or incomplete: scripts/man.sh generates it again")
        }
    }

    @Test(.requiresKernel) func probeMapAndProgramNamesCompleteFromTheNode() async throws {
        try await withServer { server in
            let client = try server.client()
            _ = try client.load("kill_count", as: "beta")
            _ = try client.load("exec_count", as: "alpha")
            let node = ["-n", server.address]

            let probes = try complete(["probe", "get"], "positional@0", ["bpfleet"] + node + ["probe", "get", ""])
            #expect(probes.status == 0)
            #expect(probes.stdout == "alpha\nbeta\n")
            #expect(probes.stderr == "")
            // The map of PROBE MAP: the probe's maps, wherever the options stand.
            #expect(try complete(["map", "dump"], "positional@1", ["bpfleet", "map", "dump"] + node + ["alpha", ""]).stdout == ".bss\nexec_counts\n")
            #expect(try complete(["map", "lookup"], "positional@1", ["bpfleet", "map", "lookup", "--format", "typed", "beta"] + node + [""]).stdout
                == "kills\n")
            #expect(try complete(["probe", "attach"], "positional@1", ["bpfleet", "probe", "attach", "alpha"] + node + [""]).stdout == "count_exec\n")
            // A probe that is not there has no maps to offer.
            #expect(try complete(["map", "dump"], "positional@1", ["bpfleet", "map", "dump"] + node + ["gamma", ""]).stdout == "")
            // $BPFLEET_NODE chooses the node as it does for the command.
            var environment = CommandEnvironment.isolated()
            environment["BPFLEET_NODE"] = server.address
            #expect(try complete(["probe", "unload"], "positional@0", ["bpfleet", "probe", "unload", ""], environment: environment).stdout
                == "alpha\nbeta\n")

            // The way bash asks, through the installed script: its function
            // runs `bpfleet ---completion ...` with the words it holds. The
            // node comes from $BPFLEET_NODE: bash splits a typed
            // `-n unix:/PATH` at the colon (docs/cli.md).
            try withInstall { root in
                let script = root + Self.prefix + "/share/bash-completion/completions/bpfleet"
                let words = [TestEnvironment.bpfleet, "map", "watch", "beta", ""]
                let line = words.joined(separator: " ")
                let bash = try TestSupport.run("/bin/bash", ["--noprofile", "--norc", "-c", """
                    source "$1"; shift
                    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$LINE"; COMP_POINT=${#COMP_LINE}
                    _bpfleet bpfleet "" "${COMP_WORDS[COMP_CWORD - 1]}"
                    printf '%s\\n' "${COMPREPLY[@]}"
                    """, "bash", script] + words, environment: environment.merging(["LINE": line]) { $1 })
                #expect(bash.status == 0, "\(String(decoding: bash.stderr, as: UTF8.self))")
                #expect(String(decoding: bash.stdout, as: UTF8.self) == "kills\n")
            }
        }
    }

    @Test func aNodeThatCannotAnswerCompletesNothingAndQuickly() async throws {
        // No node at all: nothing, and no error, for the shell to show.
        let nowhere = try complete(["probe", "get"], "positional@0", ["bpfleet", "-n", "unix:/nonexistent/bpfleetd.sock", "probe", "get", ""])
        #expect(nowhere.status == 0)
        #expect(nowhere.stdout == "")
        #expect(nowhere.stderr == "")
        // A line the command would refuse completes nothing either.
        let refused = try complete(["probe", "get"], "positional@0", ["bpfleet", "--cert", "c.pem", "probe", "get", ""])
        #expect(refused.status == 0)
        #expect(refused.stdout == "")
        #expect(refused.stderr == "")
    }

    @Test(.requiresKernel) func aSilentNodeCostsTheCompletionOnlyItsOwnLimit() async throws {
        // A node that takes the connection and never answers, beside one
        // that answers: the completion waits its own second for the
        // silent one, not the --timeout typed on the line (60 s), and
        // offers what the other node has. The bound checked is a quarter
        // of that timeout, far above the second or two it takes.
        try await withServer { server in
            _ = try server.client().load("exec_count", as: "alpha")
            let directory = try temporaryDirectory("silent-node")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let silent = try SilentSocket(path: directory + "/silent.sock")
            defer { silent.stop() }
            let started = ContinuousClock.now
            let result = try complete(["probe", "get"], "positional@0",
                                      ["bpfleet", "-n", "unix:" + silent.path, "-n", server.address, "--timeout", "60", "probe", "get", ""])
            let elapsed = ContinuousClock.now - started
            #expect(result.status == 0)
            #expect(result.stdout == "alpha\n")
            #expect(result.stderr == "")
            #expect(elapsed < .seconds(15), "\(elapsed)")
        }
    }

    // MARK: Helpers

    /// Runs `make install` of the build under test into a temporary
    /// DESTDIR, hands `body` that DESTDIR, and removes it.
    func withInstall<T>(_ body: (String) throws -> T) throws -> T {
        let destination = try temporaryDirectory("install")
        defer { try? FileManager.default.removeItem(atPath: destination) }
        let make = try TestSupport.run("/usr/bin/make", [
            "-s", "-C", TestEnvironment.packageRoot.path, "install",
            "DESTDIR=\(destination)", "PREFIX=\(Self.prefix)", "BUILD_DIR=\(TestEnvironment.binDirectory.path)",
        ])
        guard make.status == 0 else {
            throw TestFailure("make install failed (\(make.status)): \(String(decoding: make.stderr, as: UTF8.self))")
        }
        return try body(destination)
    }

    /// Asks bpfleet for completions as a shell's completion script does:
    /// `---completion`, the command's path, `--`, the argument, the index
    /// of the word under the cursor (the last), the cursor's place in it
    /// (0: the word is empty), then the words.
    func complete(_ path: [String], _ argument: String, _ words: [String],
                  environment: [String: String]? = nil) throws -> Invocation {
        try bpfleet(["---completion"] + path + ["--", argument, String(words.count - 1), "0"] + words, environment: environment)
    }

    /// The regular files under `root`, as absolute paths below it, sorted.
    func files(under root: String) -> [String] {
        let all = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
        return all.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.map { "/" + $0 }.sorted()
    }

    func mode(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int) ?? -1
    }

    /// The names of the commands under `command` of a dump-help, depth
    /// first, leaving out those it hides.
    static func commandNames(_ command: JSONValue) -> [String] {
        (command["subcommands"]?.arrayValue ?? []).filter { $0["shouldDisplay"] != .bool(false) }.flatMap { subcommand in
            [subcommand["commandName"]?.stringValue ?? "?"] + commandNames(subcommand)
        }
    }
}

/// A Unix socket that takes connections (the kernel completes them in its
/// backlog) and never reads or writes: a node that does not answer.
private final class SilentSocket {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        let descriptor = try boundUnixSocket(path)
        guard listen(descriptor, 16) == 0 else {
            let error = errno
            close(descriptor)
            throw TestFailure("cannot listen on \(path): \(String(cString: strerror(error)))")
        }
        self.path = path
        self.descriptor = descriptor
    }

    func stop() {
        close(descriptor)
        unlink(path)
    }
}

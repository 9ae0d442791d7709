import BpfleetShared
import Foundation
import TestSupport
import Testing

/// The command line's furniture and its errors in the user's words
/// (issue 17): versions, "did you mean" for commands, files that are not
/// what a command takes, and bpfleetd's own start-up messages about TLS.
@Suite(.requiresServer)
struct CommandHabitsTests {
    static let clientVersion = "bpfleet \(BpfleetVersion.current) (protocol \(ProtocolV1.version))"

    @Test func versionsOfTheClientAndOfEachNode() async throws {
        let flag = try bpfleet(["--version"])
        #expect(flag.status == 0)
        #expect(flag.stdout == Self.clientVersion + "\n")
        try await withServer { server in
            let table = try bpfleet(["-n", server.address, "version"])
            #expect(table.status == 0, "\(table.stderr)")
            let release = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let lines = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            #expect(lines == ["client: \(Self.clientVersion)", "SERVER PROTOCOL KERNEL",
                              "bpfleetd \(BpfleetVersion.current) \(ProtocolV1.version) \(release)"])
            let json = try bpfleet(["-n", server.address, "-o", "json", "version"])
            #expect(json.json?.arrayValue.first?["result"]?["serverVersion"]?.stringValue == BpfleetVersion.current)
            #expect(json.json?.arrayValue.first?["result"]?["protocolVersion"]?.stringValue == ProtocolV1.version)
        }
        // No node to ask: the client's line, then the node's failure.
        let down = try bpfleet(["-n", "unix:/nonexistent/bpfleetd.sock", "version"])
        #expect(down.status == 1)
        #expect(down.stdout == "client: \(Self.clientVersion)\n")
    }

    @Test(arguments: [
        (["probe", "lod"], "bpfleet: unknown command 'lod' for 'bpfleet probe'; did you mean 'load'?"),
        (["-n", "unix:/x", "prob", "list"], "bpfleet: unknown command 'prob' for 'bpfleet'; did you mean 'probe'?"),
        (["map", "dum", "p", "m"], "bpfleet: unknown command 'dum' for 'bpfleet map'; did you mean 'dump'?"),
        (["node", "infp"], "bpfleet: unknown command 'infp' for 'bpfleet node'; did you mean 'info'?"),
    ])
    func aMistypedCommandGetsASuggestion(arguments: [String], hint: String) throws {
        let result = try bpfleet(arguments)
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix(hint + "\n"), "\(result.stderr)")
        #expect(result.stderr.contains("Error: "))
    }

    @Test func aWordLikeNoCommandGetsNoSuggestion() throws {
        let result = try bpfleet(["probe", "xyzzy"])
        #expect(result.status == 64)
        #expect(!result.stderr.contains("did you mean"))
        #expect(result.stderr.hasPrefix("Error: Unexpected argument 'xyzzy'"))
    }

    @Test func filesThatAreNotWhatACommandTakesAreNamed() throws {
        let directory = try temporaryDirectory("habits")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = directory + "/README.md"
        try "# not an object\n".write(toFile: text, atomically: true, encoding: .utf8)
        let notELF = "'\(text)': not an ELF file (a BPF object is what clang -target bpf -c makes)"
        for arguments in [["probe", "load", text, "--name", "x"], ["object", "upload", text], ["verify", text]] {
            let result = try bpfleet(["-n", "unix:/nonexistent.sock"] + arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.hasPrefix("Error: \(notELF)\n"), "\(arguments): \(result.stderr)")
        }
        let folder = try bpfleet(["-n", "unix:/nonexistent.sock", "probe", "load", directory, "--name", "x"])
        #expect(folder.status == 64)
        #expect(folder.stderr.hasPrefix("Error: '\(directory)': is a directory, not a BPF ELF object\n"))
        let apply = try bpfleet(["-n", "unix:/nonexistent.sock", "apply", "-f", directory])
        // A directory is taken (kubectl's apply -f DIR); one with no
        // manifest in it says so.
        #expect(apply.status == 64)
        #expect(apply.stderr == "bpfleet: \(directory): a directory with no manifest in it (no *.yaml or *.yml file)\n")
        #expect(!apply.stderr.contains("NSCocoaErrorDomain"))
    }

    @Test(.requiresKernel) func aServerNamesTheObjectByItsUploadedName() async throws {
        try await withServer { server in
            let client = try LineClient(path: server.socketPath)
            let error = try client.callError("object.upload", ["data": .string(Data("# not an object\n".utf8).base64EncodedString()),
                                                               "name": "README.md"])
            #expect(error.code == .invalidObject)
            #expect(error.message.contains("README.md"), "\(error.message)")
            #expect(!error.message.contains("'upload'"))
        }
    }

    @Test func tlsFilesThatCannotBeUsedAreNamedAndNotRetried() throws {
        let directory = try temporaryDirectory("habits-tls")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "junk\n".write(toFile: directory + "/junk.pem", atomically: true, encoding: .utf8)
        let pki = try CommandLinePKI.make()
        defer { try? FileManager.default.removeItem(atPath: pki.directory) }
        func start(_ cert: String, _ key: String, _ ca: String) throws -> (status: Int32, log: String) {
            let result = try run(TestEnvironment.bpfleetd, [
                "--listen", "tcp://127.0.0.1:1", "--tls-cert", cert, "--tls-key", key, "--client-ca", ca,
                "--state-dir", directory + "/state", "--pin-root", "/sys/fs/bpf/bpfleet-test-habits-\(getpid())"])
            rmdir("/sys/fs/bpf/bpfleet-test-habits-\(getpid())")
            return (result.status, String(decoding: result.stdout + result.stderr, as: UTF8.self))
        }
        let missing = try start(directory + "/none.pem", pki.directory + "/node-key.pem", pki.ca)
        #expect(missing.status == 78)
        #expect(missing.log.contains("TLS setup failed: --tls-cert \(directory)/none.pem: No such file or directory (ENOENT)"), "\(missing.log)")
        let junkKey = try start(pki.directory + "/node.pem", directory + "/junk.pem", pki.ca)
        #expect(junkKey.status == 78)
        #expect(junkKey.log.contains("TLS setup failed: --tls-key \(directory)/junk.pem is not a PEM private key"), "\(junkKey.log)")
        let junkCA = try start(pki.directory + "/node.pem", pki.directory + "/node-key.pem", directory + "/junk.pem")
        #expect(junkCA.status == 78)
        #expect(junkCA.log.contains("TLS setup failed: --client-ca \(directory)/junk.pem is not PEM CA certificates"), "\(junkCA.log)")
        // The shipped unit does not restart on 78.
        let unit = try String(contentsOfFile: TestEnvironment.packageRoot.appendingPathComponent("deploy/systemd/bpfleetd.service").path, encoding: .utf8)
        #expect(unit.contains("RestartPreventExitStatus=64 78\n"))
    }

    @Test func aTLSNodeWithoutARolesFileSaysSoAtStart() async throws {
        let pki = try CommandLinePKI.make()
        defer { try? FileManager.default.removeItem(atPath: pki.directory) }
        let tls = ["--tls-cert", pki.directory + "/node.pem", "--tls-key", pki.directory + "/node-key.pem", "--client-ca", pki.ca]
        let warning = "TLS listeners without a roles file: every client certificate will be refused (-32001); give --roles FILE (docs/security.md)"
        for port in [UInt16.random(in: 40_000...50_000), UInt16.random(in: 50_001...60_000)] {
            guard let server = try? ServerProcess.start(["--listen", "tcp://127.0.0.1:\(port)"] + tls) else { continue }
            defer { server.stop() }
            #expect(server.log.contains(warning), "\(server.log)")
            let withRoles = try ServerProcess.start(["--listen", "tcp://127.0.0.1:\(port + 1)", "--roles", pki.roles] + tls)
            defer { withRoles.stop() }
            #expect(!withRoles.log.contains("without a roles file"))
            return
        }
        Issue.record("no free port for the TLS listener")
    }

    @Test(.requiresKernel) func anObjectIdPrefixIsTakenWhereTheIdIs() async throws {
        try await withServer { server in
            let node = ["-n", server.address]
            let upload = try bpfleet(node + ["-o", "json", "object", "upload", TestEnvironment.programPath("exec_count")])
            let id = try #require(upload.json?.arrayValue.first?["result"]?["objectId"]?.stringValue)
            // What `probe list` shows, given back.
            let short = String(id.prefix(19))
            let load = try bpfleet(node + ["-o", "json", "probe", "load", short, "--name", "by-prefix"])
            #expect(load.status == 0, "\(load.stderr)")
            #expect(load.json?.arrayValue.first?["result"]?["objectId"]?.stringValue == id)
            #expect(try bpfleet(node + ["probe", "unload", "by-prefix"]).status == 0)
            let bare = try bpfleet(node + ["-o", "json", "object", "get", String(id.dropFirst(7).prefix(8))])
            #expect(bare.json?.arrayValue.first?["result"]?["objectId"]?.stringValue == id, "\(bare.stdout)")

            // 17 objects: two of them share a first digit (16 digits).
            let client = try LineClient(path: server.socketPath)
            let build = TestEnvironment.packageRoot.appendingPathComponent("programs/build").path
            let objects = try FileManager.default.contentsOfDirectory(atPath: build).filter { $0.hasSuffix(".bpf.o") }.sorted().prefix(17)
            var ids: [String] = []
            for object in objects { ids.append(try client.upload(String(object.dropLast(".bpf.o".count)))) }
            ids = Array(Set(ids + [id])).sorted()
            let byDigit = Dictionary(grouping: ids) { $0.dropFirst(7).prefix(1) }
            let (digit, shared) = try #require(byDigit.first { $0.value.count > 1 })
            let ambiguous = try bpfleet(node + ["object", "get", "sha256:\(digit)"])
            #expect(ambiguous.status == 1)
            #expect(ambiguous.stderr.contains("sha256:\(digit) is more than one object's id on this node: \(shared.sorted().joined(separator: ", ")) (give more of it)"),
                    "\(ambiguous.stderr)")
            let unknownPrefix = "sha256:" + String(repeating: digit == "f" ? "e" : "f", count: 12)
            let none = try bpfleet(node + ["object", "get", unknownPrefix])
            #expect(none.status == 1)
            #expect(none.stderr.contains("no object on this node has an id starting \(unknownPrefix)"), "\(none.stderr)")
            // delete takes a prefix too.
            let victim = try #require(ids.first { $0 != id })
            #expect(try bpfleet(node + ["object", "delete", String(victim.prefix(20))]).status == 0)
            let left = try client.call("object.list")["objects"]?.arrayValue.compactMap { $0["objectId"]?.stringValue }
            #expect(left?.contains(victim) == false)
            #expect(left?.count == ids.count - 1)
        }
    }
}

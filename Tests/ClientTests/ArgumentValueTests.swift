@testable import BpfleetClient
import ArgumentParser
import BpfleetShared
import Testing

@Suite("KEY, VALUE and NAME=VALUE arguments")
struct ArgumentValueTests {
    @Test("text that is JSON is taken as JSON", arguments: [
        ("42", JSONValue.int(42)),
        ("-7", .int(-7)),
        ("18446744073709551615", .uint(UInt64.max)),
        ("1.5", .double(1.5)),
        ("true", .bool(true)),
        ("null", .null),
        (#""quoted""#, .string("quoted")),
        (#"{"pid":1,"comm":"bash"}"#, .object(["pid": .int(1), "comm": .string("bash")])),
        ("[1,2]", .array([.int(1), .int(2)])),
    ])
    func json(text: String, value: JSONValue) {
        #expect(JSONArgument.value(text) == value)
    }

    @Test("anything else is taken as a string", arguments: ["bash", "0a0b0c0d", "", "1.2.3", "{not json", "01"])
    func string(text: String) {
        #expect(JSONArgument.value(text) == .string(text))
    }

    @Test("NAME=VALUE splits at the first =")
    func assignment() throws {
        let parsed = try Assignment(parsing: "filter=a=b")
        #expect(parsed == Assignment(name: "filter", value: "a=b"))
        #expect(try Assignment(parsing: "empty=") == Assignment(name: "empty", value: ""))
        #expect(throws: (any Error).self) { try Assignment(parsing: "novalue") }
        #expect(throws: (any Error).self) { try Assignment(parsing: "=x") }
    }

    @Test("probe load turns --global into typed values and --label into strings")
    func probeLoad() throws {
        let command = try ProbeLoadCommand.parse([
            "sha256:00ff", "--name", "exec", "--program", "handle_exec",
            "--global", "min_pid=100", "--global", "comm=bash", "--global", #"filter={"uid":0}"#,
            "--label", "team=infra", "--label", "tier=1",
        ])
        let request = try command.request(objectId: "sha256:00ff")
        #expect(request.name == "exec")
        #expect(request.objectId == "sha256:00ff")
        #expect(request.programs == ["handle_exec"])
        #expect(request.globals == ["min_pid": 100, "comm": "bash", "filter": ["uid": 0]])
        #expect(request.labels == ["team": "infra", "tier": "1"])
    }

    @Test("a global given twice is a usage error")
    func duplicateGlobal() {
        #expect(throws: (any Error).self) {
            try ProbeLoadCommand.parse(["sha256:00", "--name", "p", "--global", "a=1", "--global", "a=2"])
        }
    }

    @Test("a path that is not there is not sent as an object id")
    func missingFile() {
        #expect(throws: (any Error).self) {
            try ProbeLoadCommand.parse(["./build/missing.bpf.o", "--name", "p"])
        }
    }

    // asyncParse: the probe and map arguments complete from the nodes,
    // asynchronously, which a synchronous parse refuses.
    @Test("map update parses key and value the same way")
    func mapUpdate() async throws {
        let command = try await MapUpdateCommand.asyncParse(["exec", "counts", "42", #"{"n":1}"#, "--flags", "noexist", "--format", "typed"])
        #expect(command.selection.reference == .named(probe: "exec", name: "counts"))
        #expect(JSONArgument.value(command.key) == 42)
        #expect(JSONArgument.value(command.value) == ["n": 1])
        #expect(command.flags == .noexist)
        #expect(command.selection.valueFormat == .typed)
    }

    @Test("call takes only an object or an array as params")
    func callParams() throws {
        _ = try CallCommand.parse(["probe.get", #"{"probe":"exec"}"#])
        _ = try CallCommand.parse(["node.info"])
        #expect(throws: (any Error).self) { try CallCommand.parse(["node.info", "3"]) }
        #expect(throws: (any Error).self) { try CallCommand.parse(["node.info", "nope"]) }
    }
}

@Suite("global options")
struct GlobalOptionsTests {
    /// No config file is found through this environment.
    let clean = ["HOME": "/nonexistent-bpfleet-home"]

    @Test("-n wins, then $BPFLEET_NODE, then the local socket")
    func nodes() throws {
        let none = try GlobalOptions.parse([])
        #expect(try none.plan(environment: clean).targets.map(\.address) == [.unix(path: "/run/bpfleet/bpfleetd.sock")])
        // tcp:// without TLS credentials, and plaintext not asked for.
        #expect(throws: UsageError.self) {
            try none.plan(environment: clean.merging(["BPFLEET_NODE": "unix:/tmp/a.sock, tcp://127.0.0.1"]) { $1 })
        }
        let plaintext = try GlobalOptions.parse(["--insecure-plaintext"])
        #expect(try plaintext.plan(environment: clean.merging(["BPFLEET_NODE": "unix:/tmp/a.sock, tcp://127.0.0.1"]) { $1 })
            .targets.map(\.address) == [.unix(path: "/tmp/a.sock"), .tcp(host: "127.0.0.1", port: 7447)])
        let given = try GlobalOptions.parse(["-n", "unix:/tmp/b.sock", "--node", "tcp://[::1]:9000", "--insecure-plaintext"])
        #expect(try given.plan(environment: clean.merging(["BPFLEET_NODE": "unix:/tmp/a.sock"]) { $1 }).targets.map(\.address) ==
            [.unix(path: "/tmp/b.sock"), .tcp(host: "::1", port: 9000)])
        #expect(throws: UsageError.self) { try none.plan(environment: clean.merging(["BPFLEET_NODE": "web1"]) { $1 }) }
    }

    @Test("defaults and bounds")
    func defaults() throws {
        let options = try GlobalOptions.parse([])
        #expect(options.output == .table)
        #expect(options.timeout == nil)
        #expect(options.concurrency == nil)
        #expect(!options.verifierLog)
        #expect(!options.insecurePlaintext)
        #expect(throws: (any Error).self) { try GlobalOptions.parse(["--timeout", "0"]) }
        #expect(throws: (any Error).self) { try GlobalOptions.parse(["--concurrency", "0"]) }
        #expect(throws: (any Error).self) { try GlobalOptions.parse(["-o", "xml"]) }
        #expect(try GlobalOptions.parse(["-o", "yaml"]).output == .yaml)
        #expect(try GlobalOptions.parse(["-o", "wide"]).output == .wide)
        #expect(throws: (any Error).self) { try GlobalOptions.parse(["--cert", "a.pem"]) }
        // A --key alone parses (sign's signing key) and is refused when nodes are asked.
        #expect(throws: (any Error).self) { try GlobalOptions.parse(["--key", "a-key.pem"]).plan() }
    }

    @Test("options may come before the command or after it")
    func placement() async throws {
        let before = try await BpfleetCommand.asyncParseAsRoot(["-n", "unix:/tmp/a.sock", "-o", "json", "--ca", "ca.pem", "probe", "list"])
        let after = try await BpfleetCommand.asyncParseAsRoot(["probe", "list", "-n", "unix:/tmp/a.sock", "-o", "json", "--ca", "ca.pem"])
        for parsed in [before, after] {
            let command = try #require(parsed as? ProbeListCommand)
            #expect(command.options.node == ["unix:/tmp/a.sock"])
            #expect(command.options.output == .json)
            #expect(command.options.ca == "ca.pem")
        }
    }
}

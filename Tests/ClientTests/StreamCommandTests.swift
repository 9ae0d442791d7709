@testable import BpfleetClient
import ArgumentParser
import BpfleetShared
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A command's stdout and stderr, captured in files.
private final class Captured {
    let outputPath = "/tmp/bpfleet-client-test-out-\(UUID().uuidString.prefix(8))"
    let errorsPath = "/tmp/bpfleet-client-test-err-\(UUID().uuidString.prefix(8))"
    let outputs: SubscriptionRun.Outputs

    init() {
        outputs = SubscriptionRun.Outputs(output: open(outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600),
                                          errors: open(errorsPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600))
    }

    deinit {
        close(outputs.output)
        close(outputs.errors)
        unlink(outputPath)
        unlink(errorsPath)
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? "" }
    var lines: [String] { output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
}

/// Runs a streaming command; the exit status it would have (0 unless it threw an ExitCode).
private func run(_ command: some StreamingCommand, _ captured: Captured) async throws -> Int32 {
    do {
        try await command.execute(outputs: captured.outputs)
        return 0
    } catch let code as ExitCode {
        return code.rawValue
    }
}

private protocol StreamingCommand {
    func execute(outputs: SubscriptionRun.Outputs) async throws
}

extension MapWatchCommand: StreamingCommand {}
extension EventsTailCommand: StreamingCommand {}

@Suite("map watch and events tail against line servers")
struct StreamCommandTests {
    @Test("map watch -o ndjson: a line per notification, params untouched; --count cancels the subscription")
    func watchLines() async throws {
        try await LineServer.with { server in
            let captured = Captured()
            let command = try await MapWatchCommand.asyncParse(["-n", "\(server.address)", "-o", "ndjson", "--count", "3", "exec", "counts"])
            #expect(try await run(command, captured) == 0)
            let node = "\(server.address)"
            #expect(captured.lines == [
                #"{"node":"\#(node)","address":"\#(node)","notification":{"method":"subscription.map","params":{"subscription":1,"seq":1,"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":1,"value":10},{"key":2,"value":100},{"key":3,"value":"x"}]}}}"#,
                #"{"node":"\#(node)","address":"\#(node)","notification":{"method":"subscription.map","params":{"subscription":1,"seq":2,"takenAt":"2025-01-02T03:04:06Z","entries":[{"key":1,"value":15},{"key":2,"value":130},{"key":3,"value":"x"}]}}}"#,
                #"{"node":"\#(node)","address":"\#(node)","notification":{"method":"subscription.map","params":{"subscription":1,"seq":4,"takenAt":"2025-01-02T03:04:08Z","entries":[{"key":1,"value":35},{"key":2,"value":150}]}}}"#,
            ])
            #expect(captured.errors == "")
            let watch = try #require(server.received.named("map.watch").first)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(watch.params.utf8))
                == ["map": ["probe": "exec", "name": "counts"], "intervalMs": 1000, "mode": "full"])
            #expect(server.received.named("subscription.cancel") == [.init(method: "subscription.cancel", params: #"{"subscription":1}"#, isNotification: false)])
        }
    }

    @Test("map watch ends with the node's subscription.end, exit 0, nothing to cancel")
    func watchEnds() async throws {
        try await LineServer.with { server in
            let captured = Captured()
            let command = try await MapWatchCommand.asyncParse(["-n", "\(server.address)", "-o", "json", "--delta", "--interval", "250ms", "--format", "hex", "exec", "ends"])
            #expect(try await run(command, captured) == 0)
            let node = "\(server.address)"
            #expect(captured.output == """
                [
                {"node":"\(node)","address":"\(node)","notification":{"method":"subscription.map","params":{"subscription":1,"seq":1,"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":"a","value":{"count":1}}]}}},
                {"node":"\(node)","address":"\(node)","notification":{"method":"subscription.end","params":{"subscription":1,"reason":"probe unloaded"}}}
                ]

                """)
            let watch = try #require(server.received.named("map.watch").first)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(watch.params.utf8))
                == ["map": ["probe": "exec", "name": "ends"], "intervalMs": 250, "mode": "delta", "format": "hex"])
            #expect(server.received.named("subscription.cancel").isEmpty)
        }
    }

    @Test("map watch in a table not on a terminal writes lines too; a refused node fails with exit 1")
    func watchRefused() async throws {
        try await LineServer.with { server in
            let captured = Captured()
            let command = try await MapWatchCommand.asyncParse(["-n", "\(server.address)", "exec", "missing"])
            #expect(try await run(command, captured) == 1)
            #expect(captured.output == "")
            #expect(captured.errors == "bpfleet: \(server.address): map.watch: not found (-32003): no map missing\n")

            let json = Captured()
            let ndjson = try await MapWatchCommand.asyncParse(["-n", "\(server.address)", "-o", "ndjson", "exec", "missing"])
            #expect(try await run(ndjson, json) == 1)
            #expect(json.lines == [#"{"node":"\#(server.address)","address":"\#(server.address)","ok":false,"error":{"code":-32003,"message":"no map missing","data":{"map":"missing"}}}"#])
        }
    }

    @Test("several nodes at once, each line tagged with its node")
    func severalNodes() async throws {
        try await LineServer.with { first in
            try await LineServer.with { second in
                let captured = Captured()
                let command = try await MapWatchCommand.asyncParse(["-n", "\(first.address)", "-n", "\(second.address)", "-o", "ndjson", "--count", "1", "exec", "counts"])
                #expect(try await run(command, captured) == 0)
                let nodes = try captured.lines.map { line in
                    try #require(try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))["node"]?.stringValue)
                }
                #expect(nodes.sorted() == ["\(first.address)", "\(second.address)"].sorted())
                #expect(first.received.named("subscription.cancel").count == 1)
                #expect(second.received.named("subscription.cancel").count == 1)
            }
        }
    }

    @Test("--duration stops a watch, cancelling it on the node, exit 0")
    func duration() async throws {
        try await LineServer.with { server in
            let captured = Captured()
            let started = ContinuousClock.now
            let command = try await MapWatchCommand.asyncParse(["-n", "\(server.address)", "-o", "ndjson", "--duration", "300ms", "exec", "counts"])
            #expect(try await run(command, captured) == 0)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            let cancels = server.received.named("subscription.cancel")
            // However loaded the machine (a stop may even come while the
            // subscribe is still on its way), the node is told once at most,
            // about the one subscription it granted; once notifications came,
            // it is told.
            #expect(cancels.count <= 1)
            #expect(cancels.allSatisfy { $0.params == #"{"subscription":1}"# })
            if !captured.lines.isEmpty { #expect(cancels.count == 1) }
        }
    }

    @Test("events tail -o ndjson: a line per record, lost before the records it preceded, --count cuts within a batch")
    func tailLines() async throws {
        try await LineServer.with { server in
            let captured = Captured()
            let command = try await EventsTailCommand.asyncParse(["-n", "\(server.address)", "-o", "ndjson", "--count", "3", "--record-type", "struct event", "exec", "events"])
            #expect(try await run(command, captured) == 0)
            let node = "\(server.address)"
            #expect(captured.lines == [
                #"{"node":"\#(node)","address":"\#(node)","record":{"pid":1,"comm":"sh"}}"#,
                #"{"node":"\#(node)","address":"\#(node)","record":{"pid":2,"comm":"ls"}}"#,
                #"{"node":"\#(node)","address":"\#(node)","lost":4}"#,
                #"{"node":"\#(node)","address":"\#(node)","record":{"pid":3,"comm":"cat"}}"#,
            ])
            #expect(server.received.named("subscription.cancel").count == 1)

            let cut = Captured()
            let two = try await EventsTailCommand.asyncParse(["-n", "\(server.address)", "-o", "ndjson", "--count", "1", "exec", "events"])
            #expect(try await run(two, cut) == 0)
            #expect(cut.lines == [#"{"node":"\#(node)","address":"\#(node)","record":{"pid":1,"comm":"sh"}}"#])
        }
    }

    @Test("events tail for people: records on stdout, lost records and the end on stderr")
    func tailText() async throws {
        try await LineServer.with { server in
            let captured = Captured()
            let command = try await EventsTailCommand.asyncParse(["-n", "\(server.address)", "--count", "3", "exec", "events"])
            #expect(try await run(command, captured) == 0)
            #expect(captured.output == """
                {"pid":1,"comm":"sh"}
                {"pid":2,"comm":"ls"}
                {"pid":3,"comm":"cat"}

                """)
            #expect(captured.errors == "bpfleet: \(server.address): 4 records lost\n")

            let ending = Captured()
            let ends = try await EventsTailCommand.asyncParse(["-n", "\(server.address)", "exec", "events-end"])
            #expect(try await run(ends, ending) == 0)
            #expect(ending.output == "\"0a0b\"\n")
            #expect(ending.errors == "bpfleet: \(server.address): subscription ended: map gone\n")

            let json = Captured()
            let ndjson = try await EventsTailCommand.asyncParse(["-n", "\(server.address)", "-o", "ndjson", "exec", "events-end"])
            #expect(try await run(ndjson, json) == 0)
            #expect(json.lines == [
                #"{"node":"\#(server.address)","address":"\#(server.address)","record":"0a0b"}"#,
                #"{"node":"\#(server.address)","address":"\#(server.address)","end":"map gone"}"#,
            ])
        }
    }

    @Test("an unreachable node among reachable ones: the others stream, a summary, exit 2")
    func unreachable() async throws {
        try await LineServer.with { server in
            let missing = NodeAddress.unix(path: "/tmp/bpfleet-client-test-missing-\(UUID().uuidString.prefix(8)).sock")
            let captured = Captured()
            let command = try await EventsTailCommand.asyncParse(["-n", "\(server.address)", "-n", "\(missing)", "exec", "events-end"])
            #expect(try await run(command, captured) == 2)
            #expect(captured.output == "\(server.address)  \"0a0b\"\n")
            let notes = captured.errors.split(separator: "\n").map(String.init)
            #expect(Set(notes.dropLast()) == [
                "bpfleet: \(server.address): subscription ended: map gone",
                "bpfleet: \(missing): cannot connect: No such file or directory (is bpfleetd running?)",
            ])
            #expect(notes.last == "bpfleet: 1 ok, 0 failed, 1 unreachable (of 2 nodes)")

            // Every node unreachable: 1. Scripts get no summary line.
            let none = Captured()
            let nowhere = try await MapWatchCommand.asyncParse(["-n", "\(missing)", "-n", "\(missing)", "-o", "ndjson", "exec", "counts"])
            #expect(try await run(nowhere, none) == 1)
            #expect(none.lines.count == 2)
            #expect(none.errors == "")

            // A node whose subscription is refused failed: none ok, 1.
            let refusedOutput = Captured()
            let refused = try await MapWatchCommand.asyncParse(["-n", "\(server.address)", "-n", "\(missing)", "exec", "no-such-map"])
            #expect(try await run(refused, refusedOutput) == 1)
            #expect(refusedOutput.errors.split(separator: "\n").last == "bpfleet: 0 ok, 1 failed, 1 unreachable (of 2 nodes)")
        }
    }
}

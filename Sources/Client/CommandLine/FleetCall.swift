import ArgumentParser
import BpfleetShared
import NIOCore

/// One node's decoded result, for table output.
struct NodeValue<Value> {
    var node: NodeTarget
    var value: Value
}

/// What every command does once its arguments are checked: run its
/// operation on every node (bounded, with connect retries and per-node
/// timeouts), print the outcome in the chosen format, and exit 0 when
/// every node succeeded, 1 when none did, 2 when some did
/// (`FanOutSummary.exitStatus`).
struct FleetCall {
    var options: GlobalOptions
    /// The method the command is about; a server error escaping
    /// `operation` is reported under it.
    var method: String
    /// The command's work on one connection; returns the raw result to show.
    var operation: @Sendable (NodeConnection) async throws -> ByteBuffer

    /// Runs, decoding each result as `type` for the table.
    func run<Shown: Decodable>(showing type: Shown.Type,
                               present: ([NodeValue<Shown>], TablePrinter) -> Void) async throws {
        let method = self.method
        try await run(decode: { result, node in
            try ResultDecoding.decode(type, from: result, method: method, address: node)
        }, present: present)
    }

    func run<Shown>(decode: (ByteBuffer, NodeAddress) throws -> Shown,
                    present: ([NodeValue<Shown>], TablePrinter) -> Void) async throws {
        let plan: GlobalOptions.Plan
        do {
            plan = try options.plan()
        } catch {
            let errors = StandardStream.error()
            errors.write("bpfleet: \(error)\n")
            errors.flush()
            throw ExitCode.validationFailure
        }
        let nodes = plan.targets
        let fanOut = plan.fanOut
        let perNode = nodeOperation()
        let output = StandardStream.output(options.output.transcoding)
        var summary = FanOutSummary()

        switch options.output {
        case .json, .yaml:
            output.write("[")
            var separator = "\n"
            await fanOut.run(nodes, order: .given, calling: perNode) { outcome in
                output.write(separator)
                separator = ",\n"
                for part in Envelope.parts(node: outcome.node, name: nodes[outcome.index].name, result: outcome.result) {
                    output.write(part)
                }
                summary.add(outcome.status)
            }
            output.write(nodes.isEmpty ? "]\n" : "\n]\n")
            output.flush()

        case .ndjson:
            await fanOut.run(nodes, order: .completion, calling: perNode) { outcome in
                for part in Envelope.parts(node: outcome.node, name: nodes[outcome.index].name, result: outcome.result) {
                    output.write(part)
                }
                output.write("\n")
                // A script reading the stream sees each node as it answers.
                output.flush()
                summary.add(outcome.status)
            }

        case .table, .wide:
            let outcomes = await fanOut.collect(nodes, calling: perNode)
            var shown: [NodeValue<Shown>] = []
            var failed: [(node: NodeTarget, error: any Error)] = []
            for outcome in outcomes {
                let node = nodes[outcome.index]
                do {
                    shown.append(NodeValue(node: node, value: try decode(outcome.result.get(), outcome.node)))
                    summary.add(.ok)
                } catch {
                    failed.append((node, error))
                    summary.add(NodeStatus(failure: error))
                }
            }
            // A table with no node to show would be a bare header: noise
            // above the failures.
            if !shown.isEmpty {
                present(shown, TablePrinter(stream: output, showsNode: nodes.count > 1, wide: options.output == .wide))
            }
            output.flush()
            report(failed, summary: summary)
        }

        if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
    }

    /// Runs the command's operation on a connection; server errors named by
    /// the command's method unless a step already named its own.
    private func nodeOperation() -> @Sendable (NodeConnection) async throws -> ByteBuffer {
        let operation = self.operation
        let method = self.method
        return { connection in
            try await MethodFailure.naming(method) { try await operation(connection) }
        }
    }

    /// Failures for people, on stderr: one line per node, the verifier's
    /// log when asked for, and the summary when several nodes were asked.
    private func report(_ failed: [(node: NodeTarget, error: any Error)], summary: FanOutSummary) {
        let errors = StandardStream.error()
        for (node, error) in failed {
            errors.write("bpfleet: \(node): \(FailureText.line(error))\n")
            if options.verifierLog, let log = FailureText.verifierLog(error) {
                errors.write(log.hasSuffix("\n") ? log : log + "\n")
            }
        }
        if summary.total > 1 {
            errors.write("bpfleet: \(summary)\n")
        }
        errors.flush()
    }
}

import ArgumentParser
import BpfleetShared
import Foundation

/// `bpfleet status -f MANIFEST`
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show, per node, whether a manifest's probe is in sync, missing, different or unreachable.",
        discussion: """
            -f takes a file, a directory or - as apply does; with several probes each row names its probe. \
            Exit status: 0 when every node is in sync, 1 when none is, 2 when some are.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp(
        "The probe manifests: a YAML file, a directory of them, or - for standard input.", valueName: "manifest"))
    var file: String

    func run() async throws {
        let prepared = FleetManifestCommand.prepareAll(file: file, options: options)
        let several = prepared.count > 1
        // SIGNED BY only when a node has an object policy to say it.
        let rows = FleetRows(format: options.output, headers: (several ? ["PROBE"] : []) + ["NODE", "STATE", "SPEC", "DETAIL"],
                             optionalHeader: "SIGNED BY")
        var inSync = 0
        var total = 0
        var summaries: [String] = []
        for (manifest, plan) in prepared {
            let wanted = DesiredProbe(manifest: manifest)
            var probeInSync = 0
            await plan.fanOut.run(plan.targets, order: options.output == .ndjson ? .completion : .given, calling: { connection in
                    let probe = try await NodeConvergence(connection: connection).probe(named: wanted.name)
                    return NodeStatus(drift: ProbeDrift.of(probe, against: wanted), spec: probe?.labels[ProbeManifest.specLabel],
                                      signers: probe?.signers, policy: probe?.policy)
            }) { outcome in
                let node = plan.targets[outcome.index]
                var record = FleetRecord(node: node.description, address: node.address.description)
                if several { record.probe = manifest.probe }
                switch outcome.result {
                case .success(let status):
                    record.state = status.drift.word
                    record.spec = status.spec
                    record.detail = status.drift.detail
                    record.signers = status.signers
                    record.policy = status.policy
                    if status.drift == .inSync { probeInSync += 1 }
                case .failure(let error):
                    let failure = NodeFailure(error)
                    record.state = failure.unreachable ? "unreachable" : "error"
                    record.error = failure
                    record.detail = failure.message
                }
                rows.add(record, cells: (several ? [manifest.probe] : [])
                         + [record.node, record.state ?? "", record.spec.map(ProbeDrift.short) ?? "-", record.detail ?? ""],
                         optional: record.signedBy)
            }
            inSync += probeInSync
            total += plan.targets.count
            summaries.append("\(probeInSync) of \(plan.targets.count) node\(plan.targets.count == 1 ? "" : "s") in sync with \(manifest.probe) (spec \(ProbeDrift.short(manifest.specHash)))")
        }
        rows.finish(summary: summaries.joined(separator: "\n"))
        if let status = FleetExit.status(ok: inSync, of: total) { throw status }
    }

    struct NodeStatus: Sendable {
        var drift: ProbeDrift
        var spec: String?
        var signers: [ObjectSigner]?
        var policy: String?
    }
}

/// One node's line of `status` or `delete`, for every output format.
struct FleetRecord: Encodable {
    /// With several manifests, the probe the line is about.
    var probe: String?
    var node: String
    var address: String
    var ok = true
    var state: String?
    var action: String?
    var spec: String?
    var detail: String?
    var error: NodeFailure?
    /// What the node's object policy made of the probe's object (status).
    var signers: [ObjectSigner]?
    var policy: String?

    /// The SIGNED BY cell: the signers' names, and whether the policy only
    /// audited the object; nil where the node has no object policy.
    var signedBy: String? { ObjectView.signedBy(signers, policy: policy) }

    init(node: String, address: String) {
        self.node = node
        self.address = address
    }

    enum CodingKeys: String, CodingKey { case probe, node, address, ok, state, action, spec, detail, error, signers, policy }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(probe, forKey: .probe)
        try container.encode(node, forKey: .node)
        try container.encode(address, forKey: .address)
        try container.encode(error == nil, forKey: .ok)
        try container.encodeIfPresent(state, forKey: .state)
        try container.encodeIfPresent(action, forKey: .action)
        try container.encodeIfPresent(spec, forKey: .spec)
        if let detail, !detail.isEmpty { try container.encode(detail, forKey: .detail) }
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(signers, forKey: .signers)
        try container.encodeIfPresent(policy, forKey: .policy)
    }
}

/// Prints fleet records: a table and a summary line, a JSON array, or a
/// JSON line per node as it answers.
final class FleetRows {
    let format: OutputFormat
    let headers: [String]
    /// A column shown before the last only when some row has a value.
    let optionalHeader: String?
    private var cells: [[String]] = []
    private var optionalCells: [String?] = []
    private var records: [FleetRecord] = []
    private let output: StandardStream
    private lazy var json = JSONLines(output)

    init(format: OutputFormat, headers: [String], optionalHeader: String? = nil) {
        self.format = format
        self.headers = headers
        self.optionalHeader = optionalHeader
        self.output = StandardStream.output(format.transcoding)
    }

    func add(_ record: FleetRecord, cells row: [String], optional: String? = nil) {
        switch format {
        case .ndjson:
            json.write(record)
        case .json, .yaml:
            records.append(record)
        case .table, .wide:
            cells.append(row)
            optionalCells.append(optional)
        }
    }

    func finish(summary: String) {
        switch format {
        case .ndjson:
            return
        case .json, .yaml:
            json.write(records)
        case .table, .wide:
            var headers = headers, cells = cells
            if let optionalHeader, optionalCells.contains(where: { $0 != nil }), !headers.isEmpty {
                headers.insert(optionalHeader, at: headers.count - 1)
                for index in cells.indices where !cells[index].isEmpty {
                    cells[index].insert(optionalCells[index] ?? "-", at: cells[index].count - 1)
                }
            }
            TablePrinter(stream: output, showsNode: false).columns(headers, cells)
            output.write(summary + "\n")
        }
        output.flush()
    }
}

import ArgumentParser
import BpfleetShared
import Foundation
import NIOCore

/// `bpfleet probe list [-L SELECTOR]`
struct ProbeListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the probes on the nodes.",
        discussion: """
            -l (--selector) chooses nodes by their labels, as in every command; -L (--probe-selector) \
            chooses the probes shown by the probes' own labels, in the same Kubernetes syntax: \
            bpfleet -l zone=a probe list -L team=net. -o wide adds the whole object id and labels \
            and how many metrics each probe exports.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: [.customShort("L"), .customLong("probe-selector")], help: ArgumentHelp(
        "Only probes whose labels match, e.g. 'team=net,bpfleet.io/spec' (Kubernetes syntax).", valueName: "expr"))
    var probeSelector: String?

    func validate() throws {
        _ = try selector()
    }

    func selector() throws -> LabelSelector? {
        guard let probeSelector else { return nil }
        do {
            return try LabelSelector(parsing: probeSelector)
        } catch {
            throw ValidationError("--probe-selector: \(error)")
        }
    }

    func run() async throws {
        let selector = try selector()
        try await FleetCall(options: options, method: ProbeList.method) { connection in
            let result = try await connection.callRaw(ProbeList())
            guard let selector else { return result }
            return try Self.probes(in: result, matching: selector, address: connection.address)
        }
        .run(showing: ProbeList.Result.self, present: ProbeView.list)
    }

    /// The result with only the probes whose labels match: every other
    /// field, and every field of the probes kept, as the node sent it.
    static func probes(in result: ByteBuffer, matching selector: LabelSelector, address: NodeAddress) throws -> ByteBuffer {
        let value = try ResultDecoding.decode(JSONValue.self, from: result, method: ProbeList.method, address: address)
        guard case .object(var members) = value, case .array(let probes)? = members["probes"] else {
            throw ClientError.unexpectedResult(address, method: ProbeList.method, detail: "result.probes: expected an array")
        }
        members["probes"] = .array(probes.filter { probe in
            guard case .object(let labels)? = probe["labels"] else { return selector.matches([:]) }
            return selector.matches(labels.compactMapValues(\.stringValue))
        })
        let bytes = try JSONEncoder.wire().encode(JSONValue.object(members))
        return ByteBuffer(bytes: bytes)
    }
}

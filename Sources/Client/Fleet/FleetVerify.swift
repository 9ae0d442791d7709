import BpfleetShared
import Foundation

/// `probe.verify` on many nodes (`bpfleet verify`, and a rollout's
/// preflight): each node gets the object when it lacks it, verifies it,
/// and loses the object again when this upload put it there and
/// `keepUploads` is off. Nothing else is changed on any node.
public struct FleetVerify: Sendable {
    public var objectId: String
    public var upload: ObjectUpload
    public var request: ProbeVerify

    public init(objectBytes: Data, name: String?, signatures: [ObjectSignature] = [], programs: [String]?,
                globals: [String: JSONValue]?, maps: [String: MapSettings]?) {
        objectId = ProbeManifest.objectId(of: objectBytes)
        upload = ObjectUpload(data: objectBytes.base64EncodedString(), name: name, signatures: signatures.isEmpty ? nil : signatures)
        request = ProbeVerify(objectId: objectId, programs: programs, globals: globals, maps: maps)
    }

    /// One node's answer.
    public struct NodeResult: Sendable {
        public var node: NodeTarget
        public var result: Result<ProbeVerify.Result, NodeFailure>
        /// Whether this verify uploaded the object (it was not on the node).
        public var uploaded: Bool

        public init(node: NodeTarget, result: Result<ProbeVerify.Result, NodeFailure>, uploaded: Bool = false) {
            self.node = node
            self.result = result
            self.uploaded = uploaded
        }

        /// Every program verified.
        public var verified: Bool { (try? result.get())?.verified ?? false }
    }

    /// Verifies on every node, in the order given. An object this call
    /// uploaded is deleted again unless `keepUploads` (best effort: a
    /// node that cannot delete it keeps it).
    public func run(on nodes: [NodeTarget], fanOut: FanOut, keepUploads: Bool) async -> [NodeResult] {
        let objectId = objectId
        let upload = upload
        let request = request
        let outcomes = await fanOut.collect(nodes, calling: { connection in
            var uploaded = false
            do {
                let held = try await connection.call(ObjectGet(objectId: objectId))
                // Signatures the node lacks: sent, or its policy judges without them.
                if upload.lacksSignatures(of: held) {
                    _ = try await MethodFailure.naming(ObjectUpload.method) { try await connection.call(upload) }
                }
            } catch let error as ResponseError where error.code == .notFound {
                _ = try await MethodFailure.naming(ObjectUpload.method) { try await connection.call(upload) }
                uploaded = true
            }
            do {
                let verified = try await MethodFailure.naming(ProbeVerify.method) { try await connection.call(request) }
                if uploaded, !keepUploads { _ = try? await connection.call(ObjectDelete(objectId: objectId)) }
                return (verified, uploaded && keepUploads)
            } catch {
                if uploaded { _ = try? await connection.call(ObjectDelete(objectId: objectId)) }
                throw error
            }
        })
        return outcomes.map { outcome in
            let node = nodes[outcome.index]
            switch outcome.result {
            case .success(let (verified, uploaded)): return NodeResult(node: node, result: .success(verified), uploaded: uploaded)
            case .failure(let error): return NodeResult(node: node, result: .failure(NodeFailure(error)))
            }
        }
    }

    /// Deletes the object from the nodes this verify uploaded it to and
    /// kept it on (a refused preflight): what it put there goes again.
    public func removeUploads(_ results: [NodeResult], fanOut: FanOut) async {
        let objectId = objectId
        let nodes = results.filter(\.uploaded).map(\.node)
        _ = await fanOut.collect(nodes, calling: { connection in
            _ = try await connection.call(ObjectDelete(objectId: objectId))
        })
    }
}

/// The nodes that answered alike, for a table: one line per kernel
/// release and verdict.
public struct VerifyGroup: Sendable, Hashable {
    /// `uname -r`, or `-` for nodes that did not answer a verdict.
    public var kernel: String
    public var nodes: [String]
    /// `verified`, or each program that did not verify with the first
    /// line of why; `unreachable: ...` or `error: ...` for a node that gave
    /// no verdict.
    public var verdict: String
    public var ok: Bool

    public init(kernel: String, nodes: [String], verdict: String, ok: Bool) {
        self.kernel = kernel
        self.nodes = nodes
        self.verdict = verdict
        self.ok = ok
    }

    /// One verdict line for a node's result.
    public static func verdict(of result: ProbeVerify.Result) -> (text: String, ok: Bool) {
        let failed = result.programs.filter { $0.verdict != ProbeVerify.ProgramVerdict.verified }
        guard !failed.isEmpty else {
            let programs = result.programs.map { program in
                program.instructions.map { "\(program.name) (\($0) insns)" } ?? program.name
            }
            return ("verified: " + programs.joined(separator: ", "), true)
        }
        let reasons = failed.map { program in
            let why = program.verdict == ProbeVerify.ProgramVerdict.unsupported ? program.missingFeature ?? program.reason : program.reason
            let line = why.map { $0.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? $0 }
            return "\(program.name) \(program.verdict)" + (line.map { ": \($0)" } ?? "")
        }
        return (reasons.joined(separator: "; "), false)
    }

    /// Groups node results by kernel release and verdict, in the order
    /// each group's first node was given; the nodes that gave no verdict
    /// (unreachable, or an error) last, by their failure.
    public static func groups(_ results: [(node: String, result: Result<ProbeVerify.Result, NodeFailure>)]) -> [VerifyGroup] {
        var answered: [VerifyGroup] = []
        var failed: [VerifyGroup] = []
        for (node, result) in results {
            let group: VerifyGroup
            switch result {
            case .success(let verified):
                let (text, ok) = verdict(of: verified)
                group = VerifyGroup(kernel: verified.kernelRelease, nodes: [node], verdict: text, ok: ok)
            case .failure(let failure):
                let line = failure.message.split(separator: "\n").first.map(String.init) ?? failure.message
                group = VerifyGroup(kernel: "-", nodes: [node], verdict: (failure.unreachable ? "unreachable: " : "error: ") + line, ok: false)
            }
            if group.kernel == "-" {
                if let index = failed.firstIndex(where: { $0.verdict == group.verdict }) { failed[index].nodes += group.nodes } else { failed.append(group) }
            } else if let index = answered.firstIndex(where: { $0.kernel == group.kernel && $0.verdict == group.verdict }) {
                answered[index].nodes += group.nodes
            } else {
                answered.append(group)
            }
        }
        return answered + failed
    }
}

/// A node's failure as a `Result`'s error.
extension NodeFailure: Error {}

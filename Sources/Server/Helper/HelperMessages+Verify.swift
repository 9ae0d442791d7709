import BpfleetShared

extension HelperRequest {
    /// `probe.verify` in the helper: the request, and the programs bpfleetd
    /// already found this node cannot serve (not loaded).
    struct VerifySpec: Codable, Sendable {
        var request: ProbeVerify
        var skip: [String]
        /// --max-probe-memory (KernelMemoryBudget), as for a load.
        var maxProbeMemory: UInt64
    }
}

extension HelperReply {
    /// One program's verdict from the helper.
    struct Verdict: Codable, Sendable, Hashable {
        var name: String
        var verdict: String
        var instructions: Int?
        var verifiedInstructions: Int?
        var reason: String?
        var log: String?
        var logTruncated: Bool?
        var missingFeature: String?
    }
}

extension ObjectHelper {
    /// Runs the programs through the verifier in the helper and frees
    /// everything: nothing is pinned, nothing outlives the request.
    func verify(_ spec: HelperRequest.VerifySpec, elf: [UInt8], name: String) throws(ResponseError) -> [HelperReply.Verdict] {
        let reply = try call(HelperRequest(operation: .verify, name: name, verify: spec), payload: elf, doing: "verifying the object")
        if let error = reply.error { throw error }
        guard let verified = reply.verified else {
            throw ResponseError(.internalError, "the object helper answered a verify without verdicts")
        }
        return verified
    }
}

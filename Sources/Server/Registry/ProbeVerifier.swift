import BpfleetShared
import CLibBPF
import Glibc

/// `probe.verify` in the object helper: opens the object, prepares it as
/// `ProbeLoader` does (programs, map settings, globals, the memory budget)
/// and lets the kernel load it, then closes everything. Nothing is pinned:
/// every program and map lives only in this process's descriptors, closed
/// before the answer is sent.
///
/// libbpf's load stops at the first program the kernel refuses; that
/// program's verdict is kept and the object is opened and loaded again
/// without it, so every program gets its verdict in at most one load per
/// program.
struct ProbeVerifier {
    /// The verifier log buffer, as a load's (ProbeLoader.logBufferSize).
    var logBufferSize = ProbeLoader().logBufferSize

    func verify(_ spec: HelperRequest.VerifySpec, elf: [UInt8], name objectName: String) throws(ResponseError) -> [HelperReply.Verdict] {
        let request = spec.request
        let first = try kernelCall { () throws(KernelError) in try BPFObject(elf: elf, name: objectName) }
        let available = first.programNames
        if let wanted = request.programs {
            for (index, program) in wanted.enumerated() where !available.contains(program) {
                throw ResponseError(.notFound, "program '\(program)' is not in object \(request.objectId) (programs: \(available.joined(separator: ", ")))",
                                    data: ["kind": "program", "name": .string(program), "field": .string("programs[\(index)]")])
            }
            guard !wanted.isEmpty else { throw .invalidParams("programs: name at least one program, or leave it out for all", field: "programs") }
        }
        let selected = available.filter { request.programs?.contains($0) ?? true }
        var remaining = selected.filter { !spec.skip.contains($0) }
        var verdicts: [String: HelperReply.Verdict] = [:]
        var opened: BPFObject? = first
        // One load per program at most: each failed load takes one program out.
        for _ in 0...selected.count {
            guard !remaining.isEmpty else { break }
            let object: BPFObject
            if let reuse = opened {
                object = reuse
                opened = nil
            } else {
                object = try kernelCall { () throws(KernelError) in try BPFObject(elf: elf, name: objectName) }
            }
            object.select(programs: Set(remaining))
            try kernelCall { () throws(KernelError) in try object.apply(request.maps ?? [:]) }
            try ProbeLoader().writeGlobals(request.globals ?? [:], into: object)
            let budget = KernelMemoryBudget(limit: spec.maxProbeMemory, possibleCPUs: possibleCPUCount(),
                                            pageSize: UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1)))
            try budget.check(object.budgetedMaps, reused: [])
            do throws(KernelError) {
                let loaded = try LoadedObject.load(object, logBufferSize: logBufferSize)
                for program in loaded.object.programs where bpf_program__autoload(program) {
                    let name = String(cString: bpf_program__name(program))
                    let info = ProgramInfo(fd: bpf_program__fd(program))
                    verdicts[name] = HelperReply.Verdict(name: name, verdict: ProbeVerify.ProgramVerdict.verified,
                                                         instructions: info.map { Int($0.instructions) },
                                                         verifiedInstructions: info.map { Int($0.verifiedInstructions) })
                }
                remaining = []
            } catch {
                let refused: String
                switch error {
                case .verifierRejected(let program, let log, _, let truncated):
                    refused = program
                    verdicts[program] = HelperReply.Verdict(name: program, verdict: ProbeVerify.ProgramVerdict.rejected,
                                                            reason: ResponseError(error).message, log: log, logTruncated: truncated)
                case .programRefused(let program, _, _, _):
                    refused = program
                    verdicts[program] = HelperReply.Verdict(name: program, verdict: ProbeVerify.ProgramVerdict.rejected,
                                                            reason: ResponseError(error).message)
                case .missingAttachTarget(let program, _, let target, _):
                    refused = program
                    verdicts[program] = HelperReply.Verdict(name: program, verdict: ProbeVerify.ProgramVerdict.unsupported,
                                                            reason: ResponseError(error).message, missingFeature: target)
                default:
                    // Not one program's: a map the kernel would not create,
                    // a load that failed whole. As probe.load answers it.
                    throw ResponseError(error)
                }
                guard remaining.contains(refused) else { throw ResponseError(error) }
                remaining.removeAll { $0 == refused }
            }
        }
        guard remaining.isEmpty else {
            throw ResponseError(.internalError, "verifying the object took more loads than it has programs")
        }
        return selected.filter { !spec.skip.contains($0) }.compactMap { verdicts[$0] }
    }
}

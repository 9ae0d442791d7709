import BpfleetShared

extension ProbeVerify: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        let object = try await context.registry.object(objectId)
        let names = object.programs.map(\.name)
        if let programs {
            for (index, program) in programs.enumerated() where !names.contains(program) {
                throw ResponseError(.notFound, "program '\(program)' is not in object \(objectId) (programs: \(names.joined(separator: ", ")))",
                                    data: ["kind": "program", "name": .string(program), "field": .string("programs[\(index)]")])
            }
            guard !programs.isEmpty else { throw ResponseError.invalidParams("programs: name at least one program, or leave it out for all", field: "programs") }
        }
        let chosen = object.programs.filter { programs?.contains($0.name) ?? true }
        var verdicts: [String: ProgramVerdict] = [:]
        var missing: [String: String] = [:]
        // What this node cannot serve is not loaded: named as probe.load
        // and probe.attach name it for -32008.
        for program in chosen {
            guard let lack = context.features.missing(for: program) else { continue }
            verdicts[program.name] = ProgramVerdict(
                name: program.name, section: program.section, type: program.type, verdict: ProgramVerdict.unsupported,
                reason: "program '\(program.name)' (section '\(program.section)') cannot be served on this node: \(lack.reason)",
                missingFeature: lack.feature)
            missing[lack.feature] = lack.reason
        }
        let skip = chosen.map(\.name).filter { verdicts[$0] != nil }
        if skip.count < chosen.count {
            // The verifier runs the object's code as root: the policy
            // judges it as it judges a load.
            try await context.registry.admit(objectId)
            for found in try await context.registry.verify(self, skipping: skip) {
                guard let program = chosen.first(where: { $0.name == found.name }) else { continue }
                verdicts[found.name] = ProgramVerdict(
                    name: program.name, section: program.section, type: program.type, verdict: found.verdict,
                    instructions: found.instructions, verifiedInstructions: found.verifiedInstructions, reason: found.reason,
                    log: found.log, logTruncated: found.logTruncated, missingFeature: found.missingFeature)
                if let feature = found.missingFeature { missing[feature] = found.reason ?? feature }
            }
        }
        let results = try chosen.map { program in
            guard let verdict = verdicts[program.name] else {
                throw ResponseError(.internalError, "the object helper gave no verdict for program '\(program.name)'")
            }
            return verdict
        }
        return Result(kernelRelease: context.features.kernelRelease, programs: results, missingFeatures: missing)
    }
}

extension ProbeVerify: Audited {
    var auditTargets: [String: JSONValue] {
        var targets: [String: JSONValue] = ["objectId": .string(objectId)]
        if let programs { targets["programs"] = .array(programs.map(JSONValue.string)) }
        return targets
    }
}

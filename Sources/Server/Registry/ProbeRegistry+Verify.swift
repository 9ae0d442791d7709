import BpfleetShared

extension ProbeRegistry {
    /// `probe.verify`'s kernel part: the object helper loads the programs
    /// (but those in `skipping`) through the verifier and frees them. No
    /// intent, desired state or pin is written: a helper that dies takes
    /// every descriptor with it.
    func verify(_ request: ProbeVerify, skipping: [String]) throws(ResponseError) -> [HelperReply.Verdict] {
        let elf = try store.elf(of: request.objectId)
        try MapSettingsCheck(maps: try store.description(of: request.objectId).maps).check(request.maps)
        return try helper.verify(HelperRequest.VerifySpec(request: request, skip: skipping, maxProbeMemory: maxProbeMemory),
                                 elf: elf, name: "verify")
    }
}

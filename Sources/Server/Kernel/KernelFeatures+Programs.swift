import BpfleetShared

extension KernelFeatures {
    /// Programs the kernel refuses to load at all where a feature is
    /// missing (fentry/fexit/fmod_ret need BPF trampolines, LSM programs
    /// the BPF LSM): probe.load names the feature (-32008) instead of
    /// passing on the verifier's bare EPERM or EINVAL.
    func unloadable(_ program: ProgramDescription) -> ResponseError? {
        let prefix = program.section.split(separator: "/", maxSplits: 1).first.map(String.init) ?? program.section
        let kind: String
        switch program.type {
        case "lsm": kind = "lsm"
        case "tracing" where prefix.hasPrefix("fentry") || prefix.hasPrefix("fmod_ret"): kind = "fentry"
        case "tracing" where prefix.hasPrefix("fexit"): kind = "fexit"
        default: return nil
        }
        guard let missing = unsupportedTargets[kind] else { return nil }
        return .unsupported(missing.feature, "program '\(program.name)' (section '\(program.section)') cannot be loaded on this node: \(missing.reason)")
    }
}

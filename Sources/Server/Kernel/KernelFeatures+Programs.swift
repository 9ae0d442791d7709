import BpfleetShared
import CLibBPF

extension KernelFeatures {
    /// Programs the kernel refuses to load at all where a feature is
    /// missing (fentry/fexit/fmod_ret need BPF trampolines, LSM programs
    /// the BPF LSM): probe.load names the feature (-32008) instead of
    /// passing on the verifier's bare EPERM or EINVAL.
    func unloadable(_ program: ProgramDescription) -> KernelError? {
        // Only trampolines and the BPF LSM are refused at load; which of
        // them a section needs is the attach path's rule.
        let type: bpf_prog_type
        switch program.type {
        case "lsm": type = BPF_PROG_TYPE_LSM
        case "tracing": type = BPF_PROG_TYPE_TRACING
        default: return nil
        }
        guard let kind = Attacher.sectionFeature(type: type, section: program.section),
              let missing = unsupportedTargets[kind] else { return nil }
        return .unsupported(feature: missing.feature, message: "program '\(program.name)' (section '\(program.section)') cannot be loaded on this node: \(missing.reason)")
    }
}

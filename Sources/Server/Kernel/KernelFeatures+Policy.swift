import BpfleetShared
import CLibBPF
import Foundation

/// A node's policy on program types (`bpfleetd --refuse-program-types`):
/// an operator forbids whole kinds of programs on a node. `probe.load`
/// refuses their programs with -32008 naming the policy, `probe.verify`
/// reports them `unsupported`, node.info lists the types.
public enum ProgramTypePolicy {
    /// Every program type libbpf names (`kprobe`, `tracepoint`, `lsm`,
    /// `tracing`, ...), in the kernel's order.
    public static var knownTypes: [String] {
        var names: [String] = []
        for raw in 1..<64 {
            guard let text = libbpf_bpf_prog_type_str(bpf_prog_type(rawValue: UInt32(raw))) else { break }
            names.append(String(cString: text))
        }
        return names
    }

    /// `kprobe,lsm`: the types, each one libbpf names, without repeats.
    public static func parse(_ text: String) throws(PolicyError) -> [String] {
        let known = knownTypes
        var types: [String] = []
        for word in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard known.contains(word) else {
                throw PolicyError(description: "'\(word)' is not a program type (one of: \(known.joined(separator: ", ")))")
            }
            if !types.contains(word) { types.append(word) }
        }
        return types
    }

    public struct PolicyError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The feature a refused type's programs lack, as -32008 names it.
    static func feature(_ type: String) -> String { "program type \(type) (refused by this node's policy)" }
}

extension KernelFeatures {
    /// -32008 for a program whose type this node's policy refuses; nil
    /// when the policy allows it.
    func policyRefusal(_ program: ProgramDescription) -> KernelError? {
        guard refusedProgramTypes.contains(program.type) else { return nil }
        let feature = ProgramTypePolicy.feature(program.type)
        return .unsupported(feature: feature, message: "program '\(program.name)' (section '\(program.section)') cannot be loaded on this node: \(feature)")
    }

    /// What this node lacks to serve `program`, or nil: its policy refuses
    /// the type, the kernel refuses to load it (BPF trampolines, the BPF
    /// LSM), or the kernel cannot attach what its section names (kprobes
    /// without CONFIG_KPROBES, tracepoints without tracefs), as probe.load
    /// and probe.attach name them for -32008.
    func missing(for program: ProgramDescription) -> Missing? {
        if refusedProgramTypes.contains(program.type) {
            let feature = ProgramTypePolicy.feature(program.type)
            return Missing(feature: feature, reason: "this node's policy refuses \(program.type) programs (bpfleetd --refuse-program-types)")
        }
        guard let type = Self.programType(named: program.type),
              let kind = Attacher.sectionFeature(type: type, section: program.section) else { return nil }
        return unsupportedTargets[kind]
    }

    /// The program type libbpf names `name`.
    static func programType(named name: String) -> bpf_prog_type? {
        for raw in 1..<64 {
            let type = bpf_prog_type(rawValue: UInt32(raw))
            guard let text = libbpf_bpf_prog_type_str(type) else { return nil }
            if String(cString: text) == name { return type }
        }
        return nil
    }
}

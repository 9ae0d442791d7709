import CLibBPF

/// A program as an attach sees it: what validation needs (name, type,
/// expected attach type, section) and the descriptor the kernel takes.
struct AttachProgram: Sendable {
    var name: String
    var fd: Int32
    var type: bpf_prog_type
    var expectedAttachType: bpf_attach_type
    var section: String
}

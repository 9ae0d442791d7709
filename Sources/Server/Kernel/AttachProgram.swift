import CLibBPF

/// A program as an attach sees it: what validation needs (name, type,
/// expected attach type, section) and the descriptor the kernel takes.
struct AttachProgram: Sendable {
    var name: String
    var fd: Int32
    var type: ProgramType
    var expectedAttachType: AttachType
    var section: String
}

/// A program's type (`enum bpf_prog_type`), as the kernel numbers it.
typealias ProgramType = bpf_prog_type
/// The attach type a program was verified for (`enum bpf_attach_type`).
typealias AttachType = bpf_attach_type

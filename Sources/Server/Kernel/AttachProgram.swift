import CLibBPF

/// A program as an attach sees it: what validation needs (name, type,
/// expected attach type, section) and the descriptor the kernel takes.
/// `loaded` is the libbpf program when this process loaded it (Attacher
/// goes through libbpf's attach functions where they serve); nil for a
/// program held only by its pin's descriptor (an adopted probe:
/// DescriptorAttach), which those functions cannot take.
struct AttachProgram: @unchecked Sendable {
    var name: String
    var fd: Int32
    var type: bpf_prog_type
    var expectedAttachType: bpf_attach_type
    var section: String
    var loaded: OpaquePointer?

    /// A program of an object this process loaded.
    init(loaded program: OpaquePointer, named name: String) {
        self.name = name
        self.fd = bpf_program__fd(program)
        self.type = bpf_program__type(program)
        self.expectedAttachType = bpf_program__expected_attach_type(program)
        self.section = String(cString: bpf_program__section_name(program))
        self.loaded = program
    }

    /// A program held by `fd` alone; `opened` is its program in the object
    /// opened (never loaded) from the same ELF, for the type, expected
    /// attach type and section libbpf derived from the section name, which
    /// are the ones the program was loaded with.
    init(named name: String, fd: Int32, opened: OpaquePointer) {
        self.name = name
        self.fd = fd
        self.type = bpf_program__type(opened)
        self.expectedAttachType = bpf_program__expected_attach_type(opened)
        self.section = String(cString: bpf_program__section_name(opened))
        self.loaded = nil
    }
}

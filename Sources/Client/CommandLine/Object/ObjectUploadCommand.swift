import ArgumentParser
import BpfleetShared

/// `bpfleet object upload FILE [--name N] [--signature SIG ...]`
struct ObjectUploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Store a compiled BPF ELF object on the nodes; prints its id (sha256:...) and contents.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The BPF ELF object file (clang -target bpf).")
    var file: String

    @Option(help: "The name to store it under (default: the file's name).")
    var name: String?

    @OptionGroup var signatures: SignatureOptions

    func validate() throws {
        try ObjectFile.validate(file)
    }

    func run() async throws {
        let upload = try ObjectFile(path: file, name: name, signatures: signatures.files).upload
        try await FleetCall(options: options, method: ObjectUpload.method) { try await $0.callRaw(upload) }
            .run(showing: ObjectDescription.self) { results, printer in
                for result in results { ObjectView.detail(result.value, node: result.node, printer) }
            }
    }
}

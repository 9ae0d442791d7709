import ArgumentParser

/// `bpfleet cert node --ca DIR --name web-1 --out DIR [--san NAME-OR-IP]... [--days N]`
struct CertNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Make a node's certificate (serverAuth), signed by the CA in --ca DIR: DIR/NAME.pem and DIR/NAME-key.pem.",
        usage: "bpfleet cert node --ca <dir> --name <name> [--san <name-or-ip> ...] --out <dir> [--days <n>] [--force]",
        discussion: """
            \(AuthorityDirectoryOption.help)

            The name is always a SAN of the certificate; add every other name or IP address clients use \
            to reach the node with --san, since clients check the address they dial against the SANs.
            """)

    @OptionGroup var options: AuthorityDirectoryOption

    @Option(help: ArgumentHelp("The node's name: its host name, or the name its clients use.", valueName: "name"))
    var name: String

    @OptionGroup var alternatives: AlternativeNameOptions

    @OptionGroup var output: CertificateOutputOptions

    func validate() throws {
        do {
            _ = try SubjectAlternativeName(parsing: name)
        } catch {
            throw ValidationError("--name \(error)")
        }
        try CertificateFiles.checkName(name)
    }

    func run() async throws {
        try await CertificateIssuing.issue(.node, name: name, alternativeNames: alternatives.alternativeNames,
                                           authorityDirectory: options.directory, output: output)
    }
}

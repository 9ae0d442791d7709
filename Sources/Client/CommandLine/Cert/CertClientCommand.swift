import ArgumentParser

/// `bpfleet cert client --ca DIR --name alice --out DIR [--san ...]... [--days N] [--backdate-days N]`
struct CertClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Make a client certificate (clientAuth, subject CN=NAME), signed by the CA in --ca DIR: DIR/NAME.pem and DIR/NAME-key.pem.",
        usage: "bpfleet cert client --ca <dir> --name <name> [--san <name-or-ip> ...] --out <dir> [--days <n>] [--backdate-days <n>] [--force]",
        discussion: AuthorityDirectoryOption.help)

    @OptionGroup var options: AuthorityDirectoryOption

    @Option(help: ArgumentHelp("Who the certificate is for: its subject is CN=NAME.", valueName: "name"))
    var name: String

    @OptionGroup var alternatives: AlternativeNameOptions

    @OptionGroup var output: CertificateOutputOptions

    func validate() throws {
        try CertificateFiles.checkName(name)
    }

    func run() async throws {
        try await CertificateIssuing.issue(.client, name: name, alternativeNames: alternatives.alternativeNames,
                                           authorityDirectory: options.directory, output: output)
    }
}

/// What `cert node` and `cert client` share: load the CA, sign, write, say
/// what was made. A problem is one line on stderr and exit status 1.
enum CertificateIssuing {
    static func issue(_ purpose: CertificatePurpose, name: String, alternativeNames: [SubjectAlternativeName],
                      authorityDirectory: String, output: CertificateOutputOptions) async throws {
        try reportingFailure {
            let authority = try CertificateAuthority.load(directory: authorityDirectory)
            let issued = try authority.issue(purpose, name: name, alternativeNames: alternativeNames,
                                             validity: output.validity(for: purpose))
            let files = try CertificateFiles(directory: output.out, certificate: "\(name).pem", key: "\(name)-key.pem", force: output.force)
            try files.write(issued)
            CertificateReport.print(issued, purpose: purpose, files: files)
        }
    }

    /// Runs `body`; a `CertificateFailure` becomes one line on stderr and
    /// exit status 1.
    static func reportingFailure(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CertificateFailure {
            let errors = StandardStream.error()
            errors.write("bpfleet: \(error)\n")
            errors.flush()
            throw ExitCode.failure
        }
    }
}

import ArgumentParser

/// `bpfleet cert ca --out DIR [--name NAME] [--days N]`
struct CertAuthorityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Make a CA: DIR/ca.pem (give it to nodes as --client-ca and to clients as --ca) and DIR/ca-key.pem (keep it safe).")

    @Option(help: ArgumentHelp("The CA's common name.", valueName: "name"))
    var name = "bpfleet CA"

    @OptionGroup var output: CertificateOutputOptions

    func run() async throws {
        try CertificateIssuing.reportingFailure {
            let files = try CertificateFiles(directory: output.out, certificate: CertificateAuthority.certificateFileName,
                                             key: CertificateAuthority.keyFileName, force: output.force)
            let authority = try CertificateAuthority.create(name: name, validity: output.validity(for: .authority))
            try files.write(authority.issued)
            CertificateReport.print(authority.issued, purpose: .authority, files: files)
        }
    }
}

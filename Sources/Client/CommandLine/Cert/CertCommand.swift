import ArgumentParser

/// `bpfleet cert ca|node|client`: a small CA for a fleet, and the
/// certificates for its nodes and the people and scripts that drive them.
struct CertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Make a CA, node certificates and client certificates for TLS (P-256 keys, PEM files).",
        discussion: """
            Keys are written with mode 0600 and existing files are never replaced without --force. \
            Each command prints the subject and SANs of what it made: the subject (e.g. CN=alice) is \
            what a node's roles file names. docs/security.md shows the same with openssl.
            """,
        subcommands: [CertAuthorityCommand.self, CertNodeCommand.self, CertClientCommand.self])
}

/// Where a certificate goes and how long it lasts.
struct CertificateOutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The directory to write to (made, mode 0700, if missing).", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("Days of validity (default: 3650 for a CA, 365 otherwise).", valueName: "n"))
    var days: Int?

    @Option(help: ArgumentHelp(
        "Start the validity this many days in the past; with --days smaller than it the certificate is already expired (for tests).",
        valueName: "n"))
    var backdateDays: Int = 0

    @Flag(help: "Replace files that already exist.")
    var force = false

    func validate() throws {
        if let days, days < 1 { throw ValidationError("--days must be at least 1") }
        guard backdateDays >= 0 else { throw ValidationError("--backdate-days must not be negative") }
    }

    func validity(for purpose: CertificatePurpose) -> CertificateValidity {
        CertificateValidity(days: days ?? purpose.defaultDays, backdateDays: backdateDays)
    }
}

/// `--san` values, checked when parsed.
struct AlternativeNameOptions: ParsableArguments {
    @Option(name: .customLong("san"), help: ArgumentHelp(
        "Another name the certificate is valid for: a DNS name, or an IP address (an IP SAN). Repeat for several.",
        valueName: "name-or-ip"),
            transform: { text in
                do {
                    return try SubjectAlternativeName(parsing: text)
                } catch {
                    throw ValidationError("--san \(error)")
                }
            })
    var alternativeNames: [SubjectAlternativeName] = []
}

/// `--ca DIR` of `cert node` and `cert client`. The top command declares
/// the global `--ca FILE` (so global options may come before the command),
/// and ArgumentParser hands `--ca` to the first command that declares it,
/// wherever it stands on the line: so the directory is read from there, and
/// the help of these commands describes it in words.
struct AuthorityDirectoryOption: ParsableArguments {
    @OptionGroup(visibility: .private) var global: GlobalOptions

    static let help = "--ca <dir>: the CA's directory, holding ca.pem and ca-key.pem (from bpfleet cert ca)."

    var directory: String { global.ca ?? "" }

    func validate() throws {
        guard let directory = global.ca, !directory.isEmpty else {
            throw ValidationError("Missing expected argument '--ca <dir>' (the CA's directory, holding ca.pem and ca-key.pem)")
        }
    }
}

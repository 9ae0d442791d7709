@testable import BpfleetClient
import Foundation

/// Certificates for the client unit tests (here, not in TestSupport: it
/// reaches the client's internals through `@testable`, which a release
/// `swift build` of a plain target cannot), made by the client's own `cert` code in a fresh
/// temporary directory: a CA with a node and clients (good, expired), and a
/// second CA (same name, different key) with its own client and node.
public final class TestPKI: Sendable {
    public let directory: String
    public let authority: CertificateAuthority
    public let foreignAuthority: CertificateAuthority

    public init() throws {
        directory = NSTemporaryDirectory() + "bpfleet-pki-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        authority = try CertificateAuthority.create(name: "bpfleet CA", validity: CertificateValidity(days: 30))
        foreignAuthority = try CertificateAuthority.create(name: "bpfleet CA", validity: CertificateValidity(days: 30))
        try write(authority.issued, "ca")
        try write(foreignAuthority.issued, "foreign-ca")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    public func path(_ name: String) -> String { "\(directory)/\(name).pem" }
    public func keyPath(_ name: String) -> String { "\(directory)/\(name)-key.pem" }

    /// Writes `NAME.pem` and `NAME-key.pem`.
    public func write(_ issued: IssuedCertificate, _ name: String) throws {
        let files = try CertificateFiles(directory: directory, certificate: "\(name).pem", key: "\(name)-key.pem", force: true)
        try files.write(issued)
    }

    @discardableResult
    public func node(_ name: String, sans: [String] = [], by issuer: CertificateAuthority? = nil, file: String? = nil) throws -> IssuedCertificate {
        let issued = try (issuer ?? authority).issue(.node, name: name, alternativeNames: try sans.map { try SubjectAlternativeName(parsing: $0) },
                                                     validity: CertificateValidity(days: 30))
        try write(issued, file ?? name)
        return issued
    }

    @discardableResult
    public func client(_ name: String, by issuer: CertificateAuthority? = nil, days: Int = 30, backdateDays: Int = 0,
                file: String? = nil) throws -> IssuedCertificate {
        let issued = try (issuer ?? authority).issue(.client, name: name, alternativeNames: [],
                                                     validity: CertificateValidity(days: days, backdateDays: backdateDays))
        try write(issued, file ?? name)
        return issued
    }

    /// Credentials as the command line would load them.
    public func credentials(ca: String = "ca", client: String?) throws -> TLSCredentials {
        try TLSCredentials.load(
            authority: CredentialFile(path: path(ca), origin: "--ca"),
            certificate: client.map { CredentialFile(path: path($0), origin: "--cert") },
            key: client.map { CredentialFile(path: keyPath($0), origin: "--key") })
    }
}

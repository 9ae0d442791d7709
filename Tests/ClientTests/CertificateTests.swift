@testable import BpfleetClient
import Crypto
import Foundation
import Testing
import X509

/// `bpfleet cert`: what it writes, read back with swift-certificates.
@Suite("certificates for people")
struct CertificateTests {
    let directory = NSTemporaryDirectory() + "bpfleet-cert-\(UUID().uuidString.prefix(8))"

    func read(_ name: String) throws -> (certificate: Certificate, key: Certificate.PrivateKey) {
        let certificate = try Certificate(pemEncoded: try String(contentsOfFile: "\(directory)/\(name).pem", encoding: .utf8))
        let key = try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: "\(directory)/\(name)-key.pem", encoding: .utf8))
        return (certificate, key)
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// Makes a CA in `directory` as `bpfleet cert ca --out DIR` does.
    func makeAuthority(days: Int = 3650) throws -> CertificateAuthority {
        let authority = try CertificateAuthority.create(name: "bpfleet CA", validity: CertificateValidity(days: days))
        try CertificateFiles(directory: directory, certificate: "ca.pem", key: "ca-key.pem", force: false).write(authority.issued)
        return try CertificateAuthority.load(directory: directory)
    }

    @Test("validity: days from now, or backdated into an expired certificate")
    func validity() {
        let now = Date(timeIntervalSince1970: 1_800_000_000.75)
        let fresh = CertificateValidity(days: 365, now: now)
        #expect(fresh.notBefore == Date(timeIntervalSince1970: 1_800_000_000 - 300))
        #expect(fresh.notAfter == Date(timeIntervalSince1970: 1_800_000_000 + 365 * 86_400))
        let expired = CertificateValidity(days: 5, backdateDays: 10, now: now)
        #expect(expired.notBefore == Date(timeIntervalSince1970: 1_800_000_000 - 10 * 86_400 - 300))
        #expect(expired.notAfter == Date(timeIntervalSince1970: 1_800_000_000 - 5 * 86_400))
    }

    @Test("a CA: self-signed, CA:TRUE, signs certificates; its key is 0600 and matches")
    func authority() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try makeAuthority()
        let (certificate, key) = try read("ca")
        #expect(certificate == authority.certificate)
        #expect(certificate.subject.description == "CN=bpfleet CA")
        #expect(certificate.issuer == certificate.subject)
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(try certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try certificate.extensions.keyUsage == KeyUsage(keyCertSign: true, cRLSign: true))
        #expect(key.publicKey == certificate.publicKey)
        let pem = try String(contentsOfFile: "\(directory)/ca-key.pem", encoding: .utf8)
        #expect(try P256.Signing.PrivateKey(pemRepresentation: pem).publicKey.rawRepresentation
            == P256.Signing.PublicKey(certificate.publicKey)?.rawRepresentation)
        #expect(try mode("\(directory)/ca-key.pem") == 0o600)
        #expect(try mode("\(directory)/ca.pem") == 0o644)
        #expect(try mode(directory) == 0o700)
    }

    @Test("a node certificate: serverAuth, its name and every --san as SANs, signed by the CA")
    func node() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try makeAuthority()
        let validity = CertificateValidity(days: 30)
        let issued = try authority.issue(.node, name: "web-1", alternativeNames: [
            try SubjectAlternativeName(parsing: "web-1.example"), try SubjectAlternativeName(parsing: "10.0.0.5"),
            try SubjectAlternativeName(parsing: "fd00::5"),
        ], validity: validity)
        try CertificateFiles(directory: directory, certificate: "web-1.pem", key: "web-1-key.pem", force: false).write(issued)
        let (certificate, key) = try read("web-1")
        #expect(certificate.subject.description == "CN=web-1")
        #expect(certificate.issuer.description == "CN=bpfleet CA")
        #expect(try certificate.extensions.subjectAlternativeNames == SubjectAlternativeNames([
            .dnsName("web-1"), .dnsName("web-1.example"),
            .ipAddress(.init(contentBytes: [10, 0, 0, 5])),
            .ipAddress(.init(contentBytes: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5])),
        ]))
        #expect(issued.alternativeNames.map(\.description) == ["DNS:web-1", "DNS:web-1.example", "IP:10.0.0.5", "IP:fd00:0:0:0:0:0:0:5"])
        #expect(try certificate.extensions.extendedKeyUsage == ExtendedKeyUsage([.serverAuth]))
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(certificate.notValidBefore == validity.notBefore)
        #expect(certificate.notValidAfter == validity.notAfter)
        #expect(key.publicKey == certificate.publicKey)
        #expect(authority.certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(try mode("\(directory)/web-1-key.pem") == 0o600)

        // Chain, dates and name as a client checks them.
        var verifier = Verifier(rootCertificates: CertificateStore([authority.certificate])) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: "web-1.example", serverIP: nil)
        }
        guard case .validCertificate = await verifier.validate(leaf: certificate, intermediates: CertificateStore()) else {
            Issue.record("the node certificate does not verify")
            return
        }
    }

    @Test("a client certificate: clientAuth, CN=NAME; backdated, it is expired")
    func client() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try makeAuthority()
        let alice = try authority.issue(.client, name: "alice", alternativeNames: [], validity: CertificateValidity(days: 365))
        #expect(alice.certificate.subject.description == "CN=alice")
        #expect(try alice.certificate.extensions.extendedKeyUsage == ExtendedKeyUsage([.clientAuth]))
        #expect(try alice.certificate.extensions.subjectAlternativeNames == nil)
        #expect(alice.certificate.notValidBefore < Date())
        #expect(alice.certificate.notValidAfter > Date() + 364 * 86_400)

        let old = try authority.issue(.client, name: "old", alternativeNames: [], validity: CertificateValidity(days: 5, backdateDays: 10))
        #expect(old.certificate.notValidAfter < Date() - 4 * 86_400)
        var verifier = Verifier(rootCertificates: CertificateStore([authority.certificate])) { RFC5280Policy() }
        guard case .couldNotValidate = await verifier.validate(leaf: old.certificate, intermediates: CertificateStore()) else {
            Issue.record("an expired certificate verified")
            return
        }
        guard case .validCertificate = await verifier.validate(leaf: alice.certificate, intermediates: CertificateStore()) else {
            Issue.record("alice's certificate does not verify")
            return
        }
    }

    func thrown(_ body: () throws -> Void) -> CertificateFailure? {
        do {
            try body()
            return nil
        } catch {
            return error as? CertificateFailure
        }
    }

    @Test("nothing is replaced without --force; a CA directory must hold a matching pair")
    func safety() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try makeAuthority()
        #expect(thrown { _ = try CertificateFiles(directory: directory, certificate: "ca.pem", key: "ca-key.pem", force: false) }
            == CertificateFailure("\(directory)/ca.pem already exists (--force replaces it)"))
        let other = try CertificateAuthority.create(name: "other", validity: CertificateValidity(days: 1))
        try PEMFile.write(try other.issued.privateKeyPEM(), to: "\(directory)/ca-key.pem", mode: 0o600)
        #expect(thrown { _ = try CertificateAuthority.load(directory: directory) }
            == CertificateFailure("the key \(directory)/ca-key.pem does not belong to the CA certificate \(directory)/ca.pem"))
        #expect(thrown { _ = try CertificateAuthority.load(directory: "\(directory)/none") }
            == CertificateFailure("cannot read \(directory)/none/ca.pem: No such file or directory"))
    }

    @Test("a key file in any of openssl's forms: the key block is found among others")
    func keyBlocks() throws {
        let key = P256.Signing.PrivateKey()
        let text = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + key.pemRepresentation + "\n"
        #expect(try PEMFile.privateKey(in: text, path: "k.pem").publicKey == Certificate.PublicKey(key.publicKey))
        #expect(PEMFile.blocks(in: text).map(\.label) == ["EC PARAMETERS", "PRIVATE KEY"])
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
        #expect(thrown { _ = try PEMFile.privateKey(in: encrypted, path: "k.pem") }
            == CertificateFailure("k.pem holds an encrypted private key; decrypt it first (openssl pkey -in KEY -out PLAIN)"))
        #expect(thrown { _ = try PEMFile.privateKey(in: "", path: "k.pem") } == CertificateFailure("k.pem holds no PEM private key"))
    }

    @Test("SANs: IP literals become IP SANs, names DNS SANs, anything else is refused")
    func alternativeNames() throws {
        #expect(try SubjectAlternativeName(parsing: "127.0.0.1") == .ip(address: "127.0.0.1", bytes: [127, 0, 0, 1]))
        #expect(try SubjectAlternativeName(parsing: "::1").description == "IP:0:0:0:0:0:0:0:1")
        #expect(try SubjectAlternativeName(parsing: "Web-1.Example") == .dns("web-1.example"))
        #expect(try SubjectAlternativeName(parsing: "*.fleet.example") == .dns("*.fleet.example"))
        #expect(throws: CertificateFailure.self) { try SubjectAlternativeName(parsing: "web 1") }
        #expect(throws: CertificateFailure.self) { try SubjectAlternativeName(parsing: "-web") }
        #expect(throws: CertificateFailure.self) { try SubjectAlternativeName(parsing: "") }
    }

    @Test("the command line writes the files and says what it made")
    func commandLine() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ca = try #require(try await BpfleetCommand.asyncParseAsRoot(["cert", "ca", "--out", directory]) as? CertAuthorityCommand)
        try await ca.run()
        let node = try #require(try await BpfleetCommand.asyncParseAsRoot(
            ["cert", "node", "--ca", directory, "--name", "web-1", "--san", "10.0.0.5", "--out", directory]) as? CertNodeCommand)
        #expect(node.options.directory == directory)
        try await node.run()
        let client = try #require(try await BpfleetCommand.asyncParseAsRoot(
            ["cert", "client", "--name", "alice", "--out", directory, "--ca", directory, "--days", "5", "--backdate-days", "10"]) as? CertClientCommand)
        try await client.run()
        #expect(try read("web-1").certificate.subject.description == "CN=web-1")
        let alice = try read("alice").certificate
        #expect(alice.notValidAfter < Date())

        let issued = IssuedCertificate(certificate: alice, privateKey: try read("alice").key)
        let files = try CertificateFiles(directory: directory, certificate: "alice.pem", key: "alice-key.pem", force: true)
        let report = CertificateReport.lines(issued, purpose: .client, files: files)
        #expect(report.map(\.0) == ["certificate", "key", "subject", "SANs", "issuer", "valid", "usage"])
        #expect(report[2].1 == "CN=alice")
        #expect(report[3].1 == "-")

        await #expect(throws: (any Error).self) { try await BpfleetCommand.asyncParseAsRoot(["cert", "node", "--name", "web-1", "--out", directory]) }
        await #expect(throws: (any Error).self) { try await BpfleetCommand.asyncParseAsRoot(["cert", "node", "--ca", directory, "--name", "a b", "--out", directory]) }
        await #expect(throws: (any Error).self) { try await BpfleetCommand.asyncParseAsRoot(["cert", "client", "--ca", directory, "--name", "../x", "--out", directory]) }
    }
}

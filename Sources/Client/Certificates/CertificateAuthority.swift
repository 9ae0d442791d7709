import Crypto
import Foundation
import X509

/// A CA that signs node and client certificates: its certificate and key,
/// made here or read from a directory holding `ca.pem` and `ca-key.pem`.
/// New keys are P-256; a CA made with openssl (RSA or another curve) signs
/// just as well.
public struct CertificateAuthority: Sendable {
    public var issued: IssuedCertificate

    public var certificate: Certificate { issued.certificate }

    public static let certificateFileName = "ca.pem"
    public static let keyFileName = "ca-key.pem"

    public init(issued: IssuedCertificate) {
        self.issued = issued
    }

    /// A new self-signed CA. It may sign end-entity certificates only
    /// (path length 0): nobody can hang a sub-CA under it.
    public static func create(name: String, validity: CertificateValidity) throws -> CertificateAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName { CommonName(name) }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: validity.notBefore, notValidAfter: validity.notAfter,
            issuer: subject, subject: subject, extensions: extensions, issuerPrivateKey: key)
        return CertificateAuthority(issued: IssuedCertificate(certificate: certificate, privateKey: key))
    }

    /// Reads `DIR/ca.pem` and `DIR/ca-key.pem`, and checks that they belong
    /// together.
    public static func load(directory: String) throws(CertificateFailure) -> CertificateAuthority {
        let certificatePath = (directory as NSString).appendingPathComponent(certificateFileName)
        let keyPath = (directory as NSString).appendingPathComponent(keyFileName)
        let text = try PEMFile.read(certificatePath)
        // The CA's own certificate comes first, should the file hold a chain.
        guard let block = PEMFile.blocks(in: text).first(where: { $0.label == "CERTIFICATE" }) else {
            throw CertificateFailure("\(certificatePath) holds no PEM certificate")
        }
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: block.text)
        } catch {
            throw CertificateFailure("\(certificatePath) holds a certificate that cannot be read: \(error)")
        }
        let key = try PEMFile.privateKey(in: try PEMFile.read(keyPath), path: keyPath)
        guard key.publicKey == certificate.publicKey else {
            throw CertificateFailure("the key \(keyPath) does not belong to the CA certificate \(certificatePath)")
        }
        if let constraints = try? certificate.extensions.basicConstraints,
           case .notCertificateAuthority = constraints {
            throw CertificateFailure("\(certificatePath) is not a CA certificate (its basic constraints say CA:FALSE)")
        }
        return CertificateAuthority(issued: IssuedCertificate(certificate: certificate, privateKey: key))
    }

    /// A node or client certificate signed by this CA, with a new P-256 key.
    /// Its subject is `CN=name`. A node certificate always carries its name
    /// as a SAN (a DNS name, or an IP address when the name is one), since
    /// clients check SANs, never the CN.
    public func issue(
        _ purpose: CertificatePurpose,
        name: String,
        alternativeNames: [SubjectAlternativeName],
        validity: CertificateValidity
    ) throws -> IssuedCertificate {
        precondition(purpose != .authority, "a CA is made with create(name:validity:)")
        var names = alternativeNames
        if purpose == .node {
            let own = try SubjectAlternativeName(parsing: name)
            if !names.contains(own) { names.insert(own, at: 0) }
        }
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let authorityKeyID = (try? certificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        let usage = purpose.extendedKeyUsage!
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            // ECDSA keys sign the handshake; that is all they do.
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([usage])
            SubjectKeyIdentifier(hash: key.publicKey)
            AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
            if !names.isEmpty {
                SubjectAlternativeNames(names.map(\.generalName))
            }
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: validity.notBefore, notValidAfter: validity.notAfter,
            issuer: self.certificate.subject, subject: try DistinguishedName { CommonName(name) },
            extensions: extensions, issuerPrivateKey: issued.privateKey)
        return IssuedCertificate(certificate: certificate, privateKey: key)
    }
}

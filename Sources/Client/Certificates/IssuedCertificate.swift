import X509

/// A certificate with its private key, ready to be written as PEM files.
public struct IssuedCertificate: Sendable {
    public var certificate: Certificate
    public var privateKey: Certificate.PrivateKey

    public init(certificate: Certificate, privateKey: Certificate.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    public func certificatePEM() throws -> String {
        try certificate.serializeAsPEM().pemString + "\n"
    }

    public func privateKeyPEM() throws -> String {
        try privateKey.serializeAsPEM().pemString + "\n"
    }

    /// The names the certificate is valid for, as bpfleet reads them.
    public var alternativeNames: [SubjectAlternativeName] {
        (try? certificate.extensions.subjectAlternativeNames)?.compactMap(SubjectAlternativeName.init) ?? []
    }
}

import Foundation
import NIOSSL
import X509

/// Checks the certificate a node presents: it must chain to our CA file,
/// be within its dates and name the node (RFC 6125: a DNS SAN for a host
/// name, an IP SAN for an address). The decision is swift-certificates'
/// verifier; when it says no, the checks are run one by one to say why.
struct NodeCertificateCheck: Sendable {
    var roots: [Certificate]
    var authorityFile: String
    /// The DNS name the certificate must carry (the server-name override,
    /// else the host), or nil when the node is reached by IP address.
    var hostname: String?
    /// The IP address it must carry when there is no host name to check.
    var ipAddress: String?

    /// The name or address a person would recognise in a mismatch.
    var expectedName: String { hostname ?? ipAddress ?? "?" }

    /// nil when the certificate is good; otherwise why not.
    func problem(with presented: [NIOSSLCertificate], now: Date = Date()) async -> TLSFailure.Problem? {
        let chain: [Certificate]
        do {
            chain = try presented.map { try Certificate(derEncoded: $0.toDERBytes()) }
        } catch {
            return .nodeCertificateRejected(reason: "it cannot be read: \(error)")
        }
        guard let leaf = chain.first else { return .nodeCertificateRejected(reason: "it presented none") }
        let intermediates = CertificateStore(chain.dropFirst())

        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: hostname, serverIP: ipAddress)
        }
        let failures: [CertificateValidationResult.PolicyFailure]
        switch await verifier.validate(leaf: leaf, intermediates: intermediates) {
        case .validCertificate: return nil
        case .couldNotValidate(let found): failures = found
        }

        // Why: trust first (a certificate from elsewhere is refused whatever
        // its dates say), then dates, then the name.
        if let issuer = untrustedIssuer(of: leaf, intermediates: Array(chain.dropFirst())) {
            // Two CAs made with the same name: say so, or the message would
            // read as if the right CA were refused.
            let sameName = roots.contains { $0.subject == issuer }
            return .nodeCertificateUntrusted(
                caFile: authorityFile, issuer: sameName ? "another CA that is also called \(issuer)" : "\(issuer)")
        }
        if leaf.notValidAfter < now { return .nodeCertificateExpired(on: leaf.notValidAfter) }
        if leaf.notValidBefore > now { return .nodeCertificateNotYetValid(until: leaf.notValidBefore) }
        var withoutName = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy() }
        if case .validCertificate = await withoutName.validate(leaf: leaf, intermediates: intermediates) {
            return .nodeNameMismatch(certified: Self.names(in: leaf), expected: expectedName)
        }
        let reason = failures.first.map { "\($0.policyFailureReason)" } ?? "no chain to the CA file \(authorityFile) meets the rules of RFC 5280"
        return .nodeCertificateRejected(reason: reason)
    }

    /// The issuer at which the chain stops short of our CA, or nil when a
    /// chain of valid signatures reaches one of its certificates.
    private func untrustedIssuer(of leaf: Certificate, intermediates: [Certificate]) -> DistinguishedName? {
        var current = leaf
        for _ in 0...intermediates.count {
            if roots.contains(current) || roots.contains(where: { Self.signed(current, by: $0) }) { return nil }
            guard let next = intermediates.first(where: { Self.signed(current, by: $0) }) else { break }
            current = next
        }
        return current.issuer
    }

    private static func signed(_ certificate: Certificate, by issuer: Certificate) -> Bool {
        issuer.subject == certificate.issuer && issuer.publicKey.isValidSignature(certificate.signature, for: certificate)
    }

    /// The names a certificate is for: its DNS and IP SANs, else its CN.
    static func names(in certificate: Certificate) -> [String] {
        let alternatives = (try? certificate.extensions.subjectAlternativeNames)?.compactMap(SubjectAlternativeName.init) ?? []
        if !alternatives.isEmpty { return alternatives.map(\.name) }
        return [certificate.subject.description]
    }
}

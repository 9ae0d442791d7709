import X509

/// What a certificate bpfleet makes is for. Each gets the extensions TLS
/// checks for that use, and nothing more.
public enum CertificatePurpose: String, Sendable, CaseIterable {
    /// Signs node and client certificates; never used for TLS itself.
    case authority
    /// A bpfleetd listener: serverAuth, with the node's names as SANs.
    case node
    /// A person or a script: clientAuth; the node maps its subject (or a
    /// SAN) to a role.
    case client

    var extendedKeyUsage: ExtendedKeyUsage.Usage? {
        switch self {
        case .authority: nil
        case .node: .serverAuth
        case .client: .clientAuth
        }
    }

    /// The default lifetime: long for the CA that everything hangs on,
    /// a year for the certificates it signs.
    public var defaultDays: Int {
        switch self {
        case .authority: 3650
        case .node, .client: 365
        }
    }
}

import Foundation

/// A TLS failure with one node, said so that a person knows what to fix:
/// whether the node refused us or we refused the node, and why.
public struct TLSFailure: Sendable, Hashable, CustomStringConvertible {
    /// The node as the person named it: its name in the config, else its
    /// address.
    public var node: String
    public var problem: Problem

    public init(node: String, problem: Problem) {
        self.node = node
        self.problem = problem
    }

    /// Our own certificate's dates as this machine's clock sees them, for
    /// a node that says it expired.
    public enum OwnCertificate: Sendable, Hashable {
        case expired(path: String, on: Date)
        case notYetValid(path: String, until: Date)
        /// Valid here: the node's clock disagrees.
        case valid(path: String, until: Date)

        public init(path: String, notBefore: Date, notAfter: Date, now: Date) {
            if notAfter < now {
                self = .expired(path: path, on: notAfter)
            } else if notBefore > now {
                self = .notYetValid(path: path, until: notBefore)
            } else {
                self = .valid(path: path, until: notAfter)
            }
        }
    }

    public enum Problem: Sendable, Hashable {
        // The node refused us.
        /// TLS alert certificate_required: we offered no certificate.
        case clientCertificateRequired
        /// Any other alert about our certificate: unknown_ca,
        /// bad_certificate, certificate_expired, ...
        case clientCertificateRefused(alert: String, ours: OwnCertificate?)

        // We refused the node.
        case nodeCertificateUntrusted(caFile: String, issuer: String)
        case nodeCertificateExpired(on: Date)
        case nodeCertificateNotYetValid(until: Date)
        /// `certified`: the DNS and IP SANs (or the CN when it has none);
        /// `expected`: the name or address checked against them.
        case nodeNameMismatch(certified: [String], expected: String)
        case nodeCertificateRejected(reason: String)

        // Neither: the conversation itself failed.
        /// The node answered something that is not TLS.
        case notTLS
        case handshakeRefused(alert: String)
        case handshakeFailed(detail: String)
    }

    public var description: String {
        switch problem {
        case .clientCertificateRequired:
            return "node \(node) requires a client certificate (--cert/--key)"
        case .clientCertificateRefused(let alert, let ours):
            return "certificate not trusted by node \(node)\(Self.why(alert: alert, ours: ours)) (TLS alert \(alert))"
        case .nodeCertificateUntrusted(let caFile, let issuer):
            return "node \(node)'s certificate is not trusted (CA file \(caFile)): it was issued by \(issuer)"
        case .nodeCertificateExpired(let date):
            return "node \(node)'s certificate expired on \(DisplayText.date(date))"
        case .nodeCertificateNotYetValid(let date):
            return "node \(node)'s certificate is not valid until \(DisplayText.date(date)) (check the clocks)"
        case .nodeNameMismatch(let certified, let expected):
            return "node \(node)'s certificate is for \(Self.list(certified)), not \(expected)"
                + " (if the node answers to another name, say so with --server-name or serverName: in the config)"
        case .nodeCertificateRejected(let reason):
            return "node \(node)'s certificate is not acceptable: \(reason)"
        case .notTLS:
            return "node \(node) did not answer in TLS (a plaintext listener? those are reached with --insecure-plaintext, on loopback only)"
        case .handshakeRefused(let alert):
            let detail = alert == "protocol_version" ? ": no common TLS version (bpfleet speaks TLS 1.3 only)" : ""
            return "node \(node) refused the TLS handshake\(detail) (TLS alert \(alert))"
        case .handshakeFailed(let detail):
            return "TLS with node \(node) failed: \(detail)"
        }
    }

    /// The words after "certificate not trusted by node X" for an alert.
    private static func why(alert: String, ours: OwnCertificate?) -> String {
        switch alert {
        case "unknown_ca":
            return ": it does not trust the CA that signed our certificate"
        case "certificate_expired":
            switch ours {
            case nil:
                return ": our certificate expired"
            case .expired(let path, let date):
                return ": our certificate \(path) expired on \(DisplayText.date(date))"
            case .notYetValid(let path, let date):
                return ": our certificate \(path) is not valid until \(DisplayText.date(date))"
            case .valid(let path, let date):
                return ": our certificate expired by the node's clock (here \(path) is valid until \(DisplayText.date(date)); check the node's clock)"
            }
        case "certificate_revoked":
            return ": our certificate is revoked"
        case "unsupported_certificate":
            return ": it cannot use our certificate for a client (does it carry clientAuth?)"
        default:
            return ""
        }
    }

    /// "web-2", "web-2 and 10.0.0.6", "a, b and c"
    private static func list(_ names: [String]) -> String {
        switch names.count {
        case 0: return "no name"
        case 1: return names[0]
        default: return names.dropLast().joined(separator: ", ") + " and " + names.last!
        }
    }
}

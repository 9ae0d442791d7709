import BpfleetShared
import Foundation
import NIOCore
import NIOSSL

/// One connection's TLS: the handler for its pipeline, and afterwards the
/// words for whatever went wrong. The node's certificate is checked in a
/// callback that runs inside the handshake; what it found is kept here,
/// since the handshake error itself only says "CERTIFICATE_VERIFY_FAILED".
final class TLSSession: Sendable {
    let node: String
    let address: NodeAddress
    let credentials: TLSCredentials
    let check: NodeCertificateCheck
    private let rejection = LockedValue<TLSFailure.Problem?>(nil)

    init(node: String, address: NodeAddress, host: String, credentials: TLSCredentials, serverName: String?) {
        self.node = node
        self.address = address
        self.credentials = credentials
        let name = serverName ?? host
        let isAddress = IPAddressText.isLiteral(name)
        self.check = NodeCertificateCheck(
            roots: credentials.trustRoots, authorityFile: credentials.authority.path,
            hostname: isAddress ? nil : name, ipAddress: isAddress ? name : nil)
    }

    /// SNI carries a host name, never an address.
    var serverNameIndication: String? { check.hostname }

    func makeHandler() throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: credentials.context, serverHostname: serverNameIndication) { [self] presented, verdict in
            Task {
                if let problem = await check.problem(with: presented) {
                    rejection.set(problem)
                    verdict.succeed(.failed)
                } else {
                    verdict.succeed(.certificateVerified)
                }
            }
        }
    }

    /// The failure in words, when `error` came from TLS; nil otherwise.
    func explain(_ error: any Error, now: Date = Date()) -> ClientError? {
        if let problem = rejection.value {
            return .tls(address, TLSFailure(node: node, problem: problem))
        }
        guard let reasons = TLSErrorReason.reasons(in: error) else { return nil }
        let problem: TLSFailure.Problem
        if let alert = TLSErrorReason.alert(in: reasons) {
            switch alert {
            case "certificate_required":
                problem = .clientCertificateRequired
            case "bad_certificate", "unsupported_certificate", "certificate_revoked", "certificate_expired",
                 "certificate_unknown", "unknown_ca", "access_denied", "decrypt_error":
                // Our certificate's dates matter only when the node says they
                // are wrong.
                problem = .clientCertificateRefused(alert: alert, ours: alert == "certificate_expired" ? ownCertificate(now: now) : nil)
            default:
                problem = .handshakeRefused(alert: alert)
            }
        } else if reasons.contains("WRONG_VERSION_NUMBER") || reasons.contains("PACKET_LENGTH_TOO_LONG") {
            problem = .notTLS
        } else {
            problem = .handshakeFailed(detail: reasons.joined(separator: ", "))
        }
        return .tls(address, TLSFailure(node: node, problem: problem))
    }

    private func ownCertificate(now: Date) -> TLSFailure.OwnCertificate? {
        guard let certificate = credentials.ownCertificate, let file = credentials.certificate else { return nil }
        return TLSFailure.OwnCertificate(path: file.path, notBefore: certificate.notValidBefore,
                                         notAfter: certificate.notValidAfter, now: now)
    }
}

import NIOSSL

/// What BoringSSL said, read from the errors NIOSSL hands on: the reason
/// names in its error stack ("TLSV1_ALERT_UNKNOWN_CA"), and from them the
/// TLS alert the peer sent ("unknown_ca").
enum TLSErrorReason {
    /// The reasons in a TLS error; `nil` when the error did not come from TLS.
    static func reasons(in error: any Error) -> [String]? {
        let failure: BoringSSLError
        switch error {
        case NIOSSLError.handshakeFailed(let boringSSL): failure = boringSSL
        case let boringSSL as BoringSSLError: failure = boringSSL
        default: return nil
        }
        switch failure {
        case .sslError(let stack), .unknownError(let stack):
            return stack.map { reason(in: $0.description) }
        default:
            return ["\(failure)"]
        }
    }

    /// "Error: 268436502 error:10000416:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_UNKNOWN at ssl/x.cc:12"
    /// → "SSLV3_ALERT_CERTIFICATE_UNKNOWN"; a synthetic error ("EOF during
    /// handshake") is kept whole.
    static func reason(in text: String) -> String {
        guard let start = text.range(of: "error:") else { return text }
        let fields = text[start.upperBound...].split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count >= 4 else { return text }
        let field = fields[3]
        return String(field.range(of: " at ").map { field[..<$0.lowerBound] } ?? field)
    }

    /// The alert the peer sent, by its name in RFC 8446 ("unknown_ca").
    static func alert(in reasons: [String]) -> String? {
        for reason in reasons {
            for prefix in ["SSLV3_ALERT_", "TLSV1_ALERT_"] where reason.hasPrefix(prefix) {
                return reason.dropFirst(prefix.count).lowercased()
            }
            if reason == "TLSV1_CERTIFICATE_REQUIRED" { return "certificate_required" }
        }
        return nil
    }
}

@testable import BpfleetClient
import BpfleetShared
import Foundation
import Testing

/// What a person reads when a node refuses: roles, and every TLS failure.
@Suite("failures in words")
struct FailureWordsTests {
    @Test("-32002 reads as who may do what; -32001 in the node's words")
    func access() {
        let denied = ResponseError(.permissionDenied, "permission denied: probe.load needs operator (you are viewer)",
                                   data: ["method": "probe.load", "needs": "operator", "role": "viewer"])
        #expect(FailureText.line(MethodFailure(method: "probe.load", error: denied)) == "permission denied: probe.load needs operator")
        #expect(FailureText.line(denied) == "permission denied: probe.load needs operator")
        // A step's own method when the node's data does not name one.
        let bare = ResponseError(.permissionDenied, "permission denied", data: ["needs": "operator"])
        #expect(FailureText.line(MethodFailure(method: "map.update", error: bare)) == "permission denied: map.update needs operator")

        let unknown = ResponseError(.unauthenticated, "unauthenticated: no role for this certificate", data: ["identity": "cert CN=eve"])
        #expect(FailureText.line(MethodFailure(method: "node.info", error: unknown))
            == "unauthenticated: no role for this certificate (identity: cert CN=eve)")
        let named = ResponseError(.unauthenticated, "unauthenticated: cert CN=eve has no role on this node", data: ["identity": "cert CN=eve"])
        #expect(FailureText.line(named) == "unauthenticated: cert CN=eve has no role on this node")

        // The JSON element keeps the node's error object as it came.
        let element = Envelope.parts(node: .tcp(host: "10.0.0.5", port: 7447), name: "web-1",
                                     result: .failure(MethodFailure(method: "probe.load", error: denied)))
            .map { String(decoding: $0.readableBytesView, as: UTF8.self) }.joined()
        #expect(element == #"{"node":"web-1","address":"tcp://10.0.0.5:7447","ok":false,"error":{"code":-32002,"message":"permission denied: probe.load needs operator (you are viewer)","data":{"method":"probe.load","needs":"operator","role":"viewer"}}}"#)
    }

    @Test("each TLS failure says which side refused and why")
    func tlsWords() {
        func text(_ problem: TLSFailure.Problem) -> String { TLSFailure(node: "web-1", problem: problem).description }
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(text(.clientCertificateRequired) == "node web-1 requires a client certificate (--cert/--key)")
        #expect(text(.clientCertificateRefused(alert: "bad_certificate", ours: nil))
            == "certificate not trusted by node web-1 (TLS alert bad_certificate)")
        #expect(text(.clientCertificateRefused(alert: "certificate_expired", ours: nil))
            == "certificate not trusted by node web-1: our certificate expired (TLS alert certificate_expired)")
        #expect(text(.clientCertificateRefused(alert: "certificate_expired", ours: .valid(path: "/a.pem", until: date)))
            == "certificate not trusted by node web-1: our certificate expired by the node's clock (here /a.pem is valid until 2027-01-15T08:00:00Z; check the node's clock) (TLS alert certificate_expired)")
        #expect(text(.nodeCertificateUntrusted(caFile: "/etc/ca.pem", issuer: "CN=other"))
            == "node web-1's certificate is not trusted (CA file /etc/ca.pem): it was issued by CN=other")
        #expect(text(.nodeCertificateExpired(on: date)) == "node web-1's certificate expired on 2027-01-15T08:00:00Z")
        #expect(text(.nodeNameMismatch(certified: ["web-2"], expected: "web-1"))
            == "node web-1's certificate is for web-2, not web-1 (if the node answers to another name, say so with --server-name or serverName: in the config)")
        #expect(text(.nodeNameMismatch(certified: ["a", "b", "10.0.0.1"], expected: "c")).hasPrefix("node web-1's certificate is for a, b and 10.0.0.1, not c"))
        #expect(text(.handshakeRefused(alert: "protocol_version"))
            == "node web-1 refused the TLS handshake: no common TLS version (bpfleet speaks TLS 1.3 only) (TLS alert protocol_version)")
        #expect(TLSFailure.OwnCertificate(path: "/a", notBefore: date, notAfter: date + 10, now: date + 11) == .expired(path: "/a", on: date + 10))
        #expect(TLSFailure.OwnCertificate(path: "/a", notBefore: date, notAfter: date + 10, now: date - 1) == .notYetValid(path: "/a", until: date))
    }

    @Test("BoringSSL's reasons are read from its error text; alerts by their RFC names")
    func reasons() {
        #expect(TLSErrorReason.reason(in: "Error: 268436502 error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA at ssl/tls_record.cc:592")
            == "TLSV1_ALERT_UNKNOWN_CA")
        #expect(TLSErrorReason.reason(in: "EOF during handshake") == "EOF during handshake")
        #expect(TLSErrorReason.alert(in: ["TLSV1_ALERT_UNKNOWN_CA"]) == "unknown_ca")
        #expect(TLSErrorReason.alert(in: ["SSLV3_ALERT_CERTIFICATE_EXPIRED"]) == "certificate_expired")
        #expect(TLSErrorReason.alert(in: ["TLSV1_ALERT_CERTIFICATE_REQUIRED"]) == "certificate_required")
        #expect(TLSErrorReason.alert(in: ["CERTIFICATE_VERIFY_FAILED"]) == nil)
        #expect(ClientError.tls(.tcp(host: "h", port: 1), TLSFailure(node: "h", problem: .notTLS)).kind == "tls")
    }
}

@testable import BpfleetClient
import BpfleetShared
import Foundation
import NIOCore
import TestSupport
import Testing

/// Real TLS 1.3 on loopback against a server that requires client
/// certificates, with certificates made by `bpfleet cert`'s own code: what
/// a person sees when either side refuses the other.
@Suite("TLS to a node")
struct TLSConnectionTests {
    let pki: TestPKI

    init() throws {
        pki = try TestPKI()
        // The node answers to web-1 and 127.0.0.1.
        try pki.node("web-1", sans: ["127.0.0.1"])
        try pki.node("web-2")
        try pki.client("alice")
        try pki.client("mallory", by: pki.foreignAuthority)
    }

    /// Calls node.info on a server presenting `serverCertificate`, as node
    /// `web-1` of a config; the error, if any, as a ClientError.
    func call(serverCertificate: String = "web-1", ca: String = "ca", client: String?, serverName: String? = nil,
              method: String = "node.info") async throws -> Result<String, ClientError> {
        let credentials = try pki.credentials(ca: ca, client: client)
        return try await TLSLineServer.with(certificate: pki.path(serverCertificate), key: pki.keyPath(serverCertificate),
                                            clientCA: pki.path("ca")) { server in
            let target = NodeTarget(address: .tcp(host: "127.0.0.1", port: server.port), name: "web-1",
                                    security: .tls(credentials, serverName: serverName))
            do {
                let result = try await NodeConnection.withConnection(to: target, timeout: .seconds(120)) { connection in
                    try await MethodFailure.naming(method) { try await connection.callRaw(method: method, params: nil) }
                }
                return .success(String(decoding: result.readableBytesView, as: UTF8.self))
            } catch let error as ClientError {
                return .failure(error)
            }
        }
    }

    func address(_ result: Result<String, ClientError>) -> NodeAddress? {
        if case .failure(let error) = result { return error.address }
        return nil
    }

    @Test("a client with a certificate from the node's CA gets its answer")
    func goodClient() async throws {
        let result = try await call(client: "alice")
        #expect(try result.get() == #"{"hostname":"web-1"}"#)
    }

    @Test("a server error passes through TLS and reads as who may do what")
    func permissionDenied() async throws {
        let credentials = try pki.credentials(client: "alice")
        try await TLSLineServer.with(certificate: pki.path("web-1"), key: pki.keyPath("web-1"), clientCA: pki.path("ca")) { server in
            let target = NodeTarget(address: .tcp(host: "127.0.0.1", port: server.port), security: .tls(credentials))
            do {
                _ = try await NodeConnection.withConnection(to: target, timeout: .seconds(120)) { connection in
                    try await MethodFailure.naming("probe.load") { try await connection.callRaw(method: "probe.load", params: nil) }
                }
                Issue.record("expected a refusal")
            } catch let failure as MethodFailure {
                #expect(failure.error.code == .permissionDenied)
                #expect(FailureText.line(failure) == "permission denied: probe.load needs operator")
            }
        }
    }

    @Test("no client certificate: the node requires one")
    func noClientCertificate() async throws {
        let result = try await call(client: nil)
        guard case .failure(let error) = result else { Issue.record("connected without a certificate"); return }
        #expect(error == .tls(address(result)!, TLSFailure(node: "web-1", problem: .clientCertificateRequired)))
        #expect(error.description == "node web-1 requires a client certificate (--cert/--key)")
        #expect(FailureText.line(error) == error.description)
        #expect(error.kind == "tls")
    }

    @Test("a client certificate from another CA is not trusted by the node")
    func foreignClientCertificate() async throws {
        let result = try await call(client: "mallory")
        guard case .failure(let error) = result else { Issue.record("a foreign certificate got in"); return }
        #expect(error == .tls(address(result)!, TLSFailure(node: "web-1", problem: .clientCertificateRefused(alert: "unknown_ca", ours: nil))))
        #expect(error.description
            == "certificate not trusted by node web-1: it does not trust the CA that signed our certificate (TLS alert unknown_ca)")
    }

    @Test("an expired client certificate: the message says it expired, and when")
    func expiredClientCertificate() async throws {
        let expired = try pki.client("old-alice", days: 5, backdateDays: 10)
        let result = try await call(client: "old-alice")
        guard case .failure(let error) = result else { Issue.record("an expired certificate got in"); return }
        let ours = TLSFailure.OwnCertificate.expired(path: pki.path("old-alice"), on: expired.certificate.notValidAfter)
        #expect(error == .tls(address(result)!, TLSFailure(node: "web-1", problem: .clientCertificateRefused(alert: "certificate_expired", ours: ours))))
        #expect(error.description == "certificate not trusted by node web-1: our certificate \(pki.path("old-alice")) expired on "
            + "\(DisplayText.date(expired.certificate.notValidAfter)) (TLS alert certificate_expired)")
    }

    @Test("a node certificate for another name is refused: it names both")
    func hostnameMismatch() async throws {
        let result = try await call(serverCertificate: "web-2", client: "alice")
        guard case .failure(let error) = result else { Issue.record("accepted a certificate for web-2"); return }
        #expect(error == .tls(address(result)!, TLSFailure(node: "web-1", problem: .nodeNameMismatch(certified: ["web-2"], expected: "127.0.0.1"))))
        #expect(error.description.hasPrefix("node web-1's certificate is for web-2, not 127.0.0.1 ("))
    }

    @Test("the server name to check can be given when the address is not in the certificate")
    func serverNameOverride() async throws {
        let accepted = try await call(serverCertificate: "web-2", client: "alice", serverName: "web-2")
        #expect(try accepted.get() == #"{"hostname":"web-1"}"#)
        let refused = try await call(serverCertificate: "web-1", client: "alice", serverName: "web-3")
        guard case .failure(let error) = refused else { Issue.record("accepted web-1 as web-3"); return }
        #expect(error.description.hasPrefix("node web-1's certificate is for web-1 and 127.0.0.1, not web-3 ("))
    }

    @Test("a node certificate from a CA we do not trust is refused, naming our CA file")
    func untrustedNode() async throws {
        try pki.node("web-1", sans: ["127.0.0.1"], by: pki.foreignAuthority, file: "foreign-web-1")
        let result = try await call(serverCertificate: "foreign-web-1", client: "alice")
        guard case .failure(let error) = result else { Issue.record("trusted a foreign node"); return }
        #expect(error.description == "node web-1's certificate is not trusted (CA file \(pki.path("ca"))): "
            + "it was issued by another CA that is also called CN=bpfleet CA")
    }

    @Test("a plaintext listener is not mistaken for TLS")
    func notTLS() async throws {
        try await LineServerOverTCP.with { port in
            let target = NodeTarget(address: .tcp(host: "127.0.0.1", port: port), name: "web-1",
                                    security: .tls(try pki.credentials(client: "alice")))
            await #expect(throws: ClientError.tls(.tcp(host: "127.0.0.1", port: port), TLSFailure(node: "web-1", problem: .notTLS))) {
                _ = try await NodeConnection.withConnection(to: target, timeout: .seconds(120)) {
                    try await $0.callRaw(method: "node.info", params: nil)
                }
            }
        }
    }

    @Test("tcp:// without TLS is refused before connecting; plaintext only to loopback")
    func tcpNeedsTLS() async throws {
        let remote = NodeAddress.tcp(host: "node7.example", port: 7447)
        await #expect(throws: ClientError.self) {
            _ = try await NodeConnection.connect(to: remote, timeout: .seconds(1))
        }
        await #expect(throws: ClientError.self) {
            _ = try await NodeConnection.connect(to: NodeTarget(address: remote, security: .insecurePlaintext), timeout: .seconds(1))
        }
        #expect(NodeAddress.tcp(host: "127.0.0.9", port: 1).isLoopback)
        #expect(NodeAddress.tcp(host: "::1", port: 1).isLoopback)
        #expect(NodeAddress.tcp(host: "0:0:0:0:0:0:0:1", port: 1).isLoopback)
        #expect(NodeAddress.tcp(host: "localhost", port: 1).isLoopback)
        #expect(!NodeAddress.tcp(host: "10.0.0.5", port: 1).isLoopback)
        #expect(!NodeAddress.tcp(host: "127.example", port: 1).isLoopback)
    }
}

import Foundation
import NIOCore
import NIOSSL
import X509

/// The server's TLS: 1.3 only, and a client certificate that chains to the
/// client CA is required (mutual TLS). A client without one, with one from
/// another CA, or with an expired one fails the handshake.
enum TLSSetup {
    static func serverContext(certificate: String, key: String, clientCA: String) throws -> NIOSSLContext {
        do {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            configuration.minimumTLSVersion = .tlsv13
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
            configuration.certificateVerification = .noHostnameVerification
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw StartupError("TLS setup failed (--tls-cert \(certificate), --tls-key \(key), --client-ca \(clientCA)): \(error)")
        }
    }

    /// The verified client certificate, as the roles file names peers.
    static func identity(of certificate: NIOSSLCertificate) throws -> PeerIdentity {
        let parsed = try Certificate(derEncoded: certificate.toDERBytes())
        var commonName: String?
        for relativeName in parsed.subject {
            for attribute in relativeName where attribute.type == .RDNAttributeType.commonName {
                commonName = String(describing: attribute.value)
            }
        }
        var names: [String] = []
        if let alternatives = try? parsed.extensions.subjectAlternativeNames {
            for name in alternatives {
                switch name {
                case .dnsName(let dns): names.append(dns)
                case .rfc822Name(let email): names.append(email)
                case .uniformResourceIdentifier(let uri): names.append(uri)
                case .ipAddress(let octets): names.append(ipText(Array(octets.bytes)))
                default: break
                }
            }
        }
        return .certificate(subject: parsed.subject.description, commonName: commonName, subjectAlternativeNames: names)
    }

    private static func ipText(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var words: [String] = []
        for index in stride(from: 0, to: bytes.count - 1, by: 2) {
            words.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16))
        }
        return words.joined(separator: ":")
    }
}

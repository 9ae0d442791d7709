import Foundation
import NIOCore
import NIOSSL
import X509

/// The server's TLS: 1.3 only, and a client certificate that chains to the
/// client CA is required (mutual TLS). A client without one, with one from
/// another CA, or with an expired one fails the handshake.
enum TLSSetup {
    static func serverContext(certificate: String, key: String, clientCA: String) throws -> NIOSSLContext {
        let chain = try load("--tls-cert", certificate, "a PEM certificate chain") { try NIOSSLCertificate.fromPEMFile($0) }
        let privateKey = try load("--tls-key", key, "a PEM private key") { try NIOSSLPrivateKey(file: $0, format: .pem) }
        let roots = try load("--client-ca", clientCA, "PEM CA certificates") { try NIOSSLCertificate.fromPEMFile($0) }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(roots)
        configuration.certificateVerification = .noHostnameVerification
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw StartupError("TLS setup failed: --tls-key \(key) is not the key of --tls-cert \(certificate), or they do not go together (\(error))",
                               exitStatus: StartupError.configurationExitStatus)
        }
    }

    /// One TLS file, read by `parse`: which flag and file when it cannot
    /// be opened (the system's reason) or does not read as `what`.
    private static func load<T>(_ flag: String, _ path: String, _ what: String, _ parse: (String) throws -> T) throws -> T {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw StartupError("TLS setup failed: \(flag) \(path): \(String(cString: strerror(code))) (\(errnoName(code)))",
                               exitStatus: StartupError.configurationExitStatus)
        }
        close(fd)
        do {
            return try parse(path)
        } catch {
            throw StartupError("TLS setup failed: \(flag) \(path) is not \(what) (\(error))", exitStatus: StartupError.configurationExitStatus)
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

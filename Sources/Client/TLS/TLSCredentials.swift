import Foundation
import NIOSSL
import X509

/// What this client trusts and proves on TLS: the CA that node certificates
/// must chain to (only that CA, never the system's store) and, for mutual
/// TLS, its own certificate chain and private key. Loaded once and shared by
/// every connection that uses the same files.
public struct TLSCredentials: Sendable {
    public let authority: CredentialFile
    public let certificate: CredentialFile?
    public let key: CredentialFile?

    let context: NIOSSLContext
    let trustRoots: [Certificate]
    /// Our own leaf certificate, to say when it expires if a node refuses it.
    let ownCertificate: Certificate?

    /// Reads and checks the files. `certificate` and `key` come together or
    /// not at all; without them the client offers no certificate, and a node
    /// that requires one says so.
    public static func load(authority: CredentialFile, certificate: CredentialFile?, key: CredentialFile?) throws(CredentialError) -> TLSCredentials {
        switch (certificate, key) {
        case (.some(let certificate), nil):
            throw CredentialError("the certificate \(certificate) needs its key too (--key, or key: in the config)")
        case (nil, .some(let key)):
            throw CredentialError("the key \(key) needs its certificate too (--cert, or cert: in the config)")
        default:
            break
        }

        let roots = try certificates(in: authority, what: "CA file")
        var ownChain: [NIOSSLCertificate] = []
        var ownCertificate: Certificate?
        var privateKey: NIOSSLPrivateKey?
        if let certificate, let key {
            let chain = try certificates(in: certificate, what: "certificate file")
            ownChain = chain.map(\.nio)
            ownCertificate = chain.first?.parsed
            let text = try read(key, what: "key file")
            do {
                privateKey = try NIOSSLPrivateKey(bytes: Array(text.utf8), format: .pem)
            } catch {
                throw CredentialError("the key file \(key) holds no usable PEM private key (an encrypted key must be decrypted first)")
            }
            // Compared here rather than left to the TLS library, whose
            // complaint would not name the files.
            if let parsedKey = try? PEMFile.privateKey(in: text, path: key.path), let ownCertificate,
               parsedKey.publicKey != ownCertificate.publicKey {
                throw CredentialError("the key \(key.path) does not match the certificate \(certificate.path): they were not made together")
            }
        }

        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(roots.map(\.nio))
        // The node's certificate and name are checked by NodeCertificateCheck
        // (a custom verification callback), which can say what was wrong.
        configuration.certificateVerification = .noHostnameVerification
        configuration.certificateChain = ownChain.map { .certificate($0) }
        configuration.privateKey = privateKey.map { .privateKey($0) }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            let files = [certificate, key].compactMap { $0?.path }.joined(separator: ", ")
            throw CredentialError("cannot set up TLS with \(files.isEmpty ? authority.path : files): \(error)")
        }
        return TLSCredentials(
            authority: authority, certificate: certificate, key: key, context: context,
            trustRoots: roots.map(\.parsed), ownCertificate: ownCertificate)
    }

    private static func read(_ file: CredentialFile, what: String) throws(CredentialError) -> String {
        switch TextFile.read(file.path) {
        case .success(let text): return text
        case .failure(let reason): throw CredentialError("cannot read the \(what) \(file): \(reason.text)")
        }
    }

    private static func certificates(in file: CredentialFile, what: String) throws(CredentialError) -> [(nio: NIOSSLCertificate, parsed: Certificate)] {
        let text = try read(file, what: what)
        let loaded: [NIOSSLCertificate]
        do {
            loaded = try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        } catch {
            throw CredentialError("the \(what) \(file) holds no PEM certificate")
        }
        guard !loaded.isEmpty else { throw CredentialError("the \(what) \(file) holds no PEM certificate") }
        do {
            return try loaded.map { ($0, try Certificate(derEncoded: $0.toDERBytes())) }
        } catch {
            throw CredentialError("the \(what) \(file) holds a certificate that cannot be read: \(error)")
        }
    }
}

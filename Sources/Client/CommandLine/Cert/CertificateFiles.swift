import ArgumentParser
import Foundation

/// The two files a certificate is written to, in a directory made private
/// if it has to be made. Nothing is replaced without --force: a new CA key
/// over an old one would orphan every certificate the old one signed.
struct CertificateFiles {
    var certificatePath: String
    var keyPath: String

    init(directory: String, certificate: String, key: String, force: Bool) throws(CertificateFailure) {
        certificatePath = (directory as NSString).appendingPathComponent(certificate)
        keyPath = (directory as NSString).appendingPathComponent(key)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CertificateFailure("--out \(directory) is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw CertificateFailure("cannot make the directory \(directory): \(error.localizedDescription)")
            }
        }
        if !force {
            for path in [certificatePath, keyPath] where FileManager.default.fileExists(atPath: path) {
                throw CertificateFailure("\(path) already exists (--force replaces it)")
            }
        }
    }

    /// The key first, 0600; then the certificate, 0644 (it is public).
    func write(_ issued: IssuedCertificate) throws {
        try PEMFile.write(issued.privateKeyPEM(), to: keyPath, mode: 0o600)
        try PEMFile.write(issued.certificatePEM(), to: certificatePath, mode: 0o644)
    }

    /// A name that becomes a file name must stay in --out.
    static func checkName(_ name: String) throws {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), !name.contains("\0") else {
            throw ValidationError("--name '\(name)' cannot be a file name (no '/', not starting with '.')")
        }
    }
}

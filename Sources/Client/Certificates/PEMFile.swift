import Foundation
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing the PEM files certificates and keys live in.
public enum PEMFile {
    /// The file's text; a file that cannot be read is named with the
    /// system's reason.
    public static func read(_ path: String) throws(CertificateFailure) -> String {
        switch TextFile.read(path) {
        case .success(let text): return text
        case .failure(let reason): throw CertificateFailure("cannot read \(path): \(reason.text)")
        }
    }

    /// The private key in a PEM file, whichever form it takes: PKCS#8
    /// ("PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY", which openssl writes after
    /// an "EC PARAMETERS" block) or PKCS#1 ("RSA PRIVATE KEY").
    public static func privateKey(in text: String, path: String) throws(CertificateFailure) -> Certificate.PrivateKey {
        let blocks = Self.blocks(in: text)
        if blocks.contains(where: { $0.label == "ENCRYPTED PRIVATE KEY" }) {
            throw CertificateFailure("\(path) holds an encrypted private key; decrypt it first (openssl pkey -in KEY -out PLAIN)")
        }
        guard let block = blocks.first(where: { $0.label.hasSuffix("PRIVATE KEY") }) else {
            throw CertificateFailure("\(path) holds no PEM private key")
        }
        do {
            return try Certificate.PrivateKey(pemEncoded: block.text)
        } catch {
            throw CertificateFailure("\(path) holds a private key of a kind bpfleet cannot use (P-256, P-384, P-521, RSA or Ed25519): \(error)")
        }
    }

    /// The PEM blocks in a text: their labels and their text, armour included.
    static func blocks(in text: String) -> [(label: String, text: String)] {
        var blocks: [(label: String, text: String)] = []
        var rest = text[...]
        while let begin = rest.range(of: "-----BEGIN "), let labelEnd = rest[begin.upperBound...].range(of: "-----") {
            let label = String(rest[begin.upperBound..<labelEnd.lowerBound])
            guard let end = rest[labelEnd.upperBound...].range(of: "-----END \(label)-----") else { break }
            blocks.append((label, String(rest[begin.lowerBound..<end.upperBound])))
            rest = rest[end.upperBound...]
        }
        return blocks
    }

    /// Writes `text` to `path` with `mode`, atomically: a temporary file in
    /// the same directory, created with that mode from the start (a private
    /// key is never readable by others, not even for a moment), then
    /// renamed over the target.
    public static func write(_ text: String, to path: String, mode: mode_t) throws(CertificateFailure) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw CertificateFailure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        var failure: Int32 = 0
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            offset += written
        }
        // The umask may have taken bits away from `mode`; put them back.
        if failure == 0, fchmod(descriptor, mode) != 0 { failure = errno }
        if failure == 0, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw CertificateFailure("cannot write \(path): \(String(cString: strerror(failure)))")
        }
    }
}

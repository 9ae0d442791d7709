import BpfleetShared
import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The client's cache of node kernel types (`bpfleet node btf`), by the
/// sha256 of their raw BTF: `$XDG_CACHE_HOME/bpfleet/btf/` (default
/// `~/.cache/bpfleet/btf/`), a file per hash and format, written atomically.
struct BTFCache: Sendable {
    let directory: String

    /// The cache directory the environment names; nil without an absolute
    /// XDG_CACHE_HOME or HOME.
    static func directory(environment: [String: String]) -> String? {
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") {
            return cache + "/bpfleet/btf"
        }
        if let home = environment["HOME"], home.hasPrefix("/") {
            return home + "/.cache/bpfleet/btf"
        }
        return nil
    }

    /// The file name of an answer: `SHA256.btf` or `SHA256.h` for vmlinux;
    /// a module's carries its name and vmlinux's hash, which its header
    /// depends on too: `SHA256-BASESHA256.MODULE.h`.
    static func fileName(sha256: String, baseSha256: String?, module: String?, format: String) -> String {
        let suffix = format == "c" ? "h" : "btf"
        guard let module else { return "\(sha256).\(suffix)" }
        return "\(sha256)-\(baseSha256 ?? "").\(module).\(suffix)"
    }

    /// The cached bytes of `name`, or nil. A raw file must still hash to
    /// `sha256` (anything else is a miss, and is written again).
    func read(_ name: String, rawSha256: String?, largest: Int) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)"), !data.isEmpty, data.count <= largest else {
            return nil
        }
        let bytes = [UInt8](data)
        if let rawSha256, Self.sha256(bytes) != rawSha256 { return nil }
        return bytes
    }

    /// Stores `bytes` as `name` (the directory made 0700 as needed).
    func write(_ name: String, _ bytes: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try AtomicWrite.store(bytes, to: "\(directory)/\(name)")
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
    }
}

/// Writing a file whole or not at all: a temporary file beside it, synced,
/// then renamed over it.
enum AtomicWrite {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func store(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = "\(directory)/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        var written = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count, let base = buffer.baseAddress {
                let count = write(descriptor, base + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += count
            }
        }
        if failure == 0, fsync(descriptor) != 0 { failure = errno }
        if close(descriptor) != 0, failure == 0 { failure = errno }
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw Failure(description: "\(path): \(String(cString: strerror(failure)))")
        }
    }
}

import BpfleetShared
import Foundation

/// A signature file as `bpfleet sign` writes it, read for an upload.
/// Without one named, an object's signature is looked for beside it, as
/// `sign` puts it: FILE.sig.
public enum SignatureFile {
    /// Larger than any signature file; a bigger file is not one.
    static let maxBytes = 64 << 10

    /// The signature in `path`, checked to be of `digest` (the object it
    /// goes with), so a stale file is named here rather than refused by
    /// every node.
    public static func read(_ path: String, for digest: String) throws(Failure) -> ObjectSignature {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Failure(path: path, FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: maxBytes + 1), data.count <= maxBytes else {
            throw Failure(path: path, "not a signature file (larger than \(maxBytes) bytes, or unreadable)")
        }
        let signature: ObjectSignature
        do {
            signature = try JSONDecoder().decode(ObjectSignature.self, from: data)
        } catch {
            throw Failure(path: path, "not a signature file as bpfleet sign writes it (JSON with format, digest, keyId, signature)")
        }
        guard signature.format == ObjectSignature.format else {
            throw Failure(path: path, "format '\(signature.format.prefix(80))' is not \(ObjectSignature.format)")
        }
        guard signature.digest == digest else {
            throw Failure(path: path, "signs \(signature.digest.prefix(80)), not this object (\(digest)): sign the object again")
        }
        return signature
    }

    /// The signatures of the object at `objectPath`: those in `paths`, or
    /// else the one beside it (FILE.sig) when there is one.
    public static func signatures(of objectPath: String, digest: String, paths: [String]) throws(Failure) -> [ObjectSignature] {
        if paths.isEmpty {
            let beside = objectPath + ".sig"
            guard FileManager.default.fileExists(atPath: beside) else { return [] }
            return [try read(beside, for: digest)]
        }
        var signatures: [ObjectSignature] = []
        for path in paths { signatures.append(try read(path, for: digest)) }
        return signatures
    }

    public struct Failure: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        init(path: String, _ reason: String) {
            self.path = path
            self.reason = reason
        }
        public var description: String { "signature '\(path)': \(reason)" }
    }
}

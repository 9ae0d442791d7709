import ArgumentParser
import BpfleetShared
import Foundation

/// A BPF ELF object read from the local disk, ready to upload. It is read
/// and encoded once, however many nodes it goes to.
struct ObjectFile: Sendable {
    var path: String
    var upload: ObjectUpload

    /// `signatures`: signature files; none named, FILE.sig when it exists.
    init(path: String, name: String?, signatures: [String] = []) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReadFailure(path: path, reason: Self.problem(with: path) ?? error.localizedDescription)
        }
        self.path = path
        // Stored under the file's name unless told otherwise: that is how an
        // operator recognizes it in `object list`.
        let signed = try SignatureFile.signatures(of: path, digest: ObjectSignature.digest(of: data), paths: signatures)
        self.upload = ObjectUpload(data: data.base64EncodedString(),
                                   name: name ?? URL(fileURLWithPath: path).lastPathComponent,
                                   signatures: signed.isEmpty ? nil : signed)
    }

    /// Why `path` cannot be uploaded, checked before any node is asked.
    static func validate(_ path: String) throws {
        if let problem = problem(with: path) { throw ValidationError("'\(path)': \(problem)") }
    }

    /// Whether `argument` names a regular file here (so `probe load` should
    /// upload it) rather than an object id on the nodes.
    static func exists(_ argument: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    private static func problem(with path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "is a directory, not a BPF ELF object" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        // The header, as a manifest's object is checked: a README given by
        // mistake is refused here, not by the nodes.
        guard let handle = FileHandle(forReadingAtPath: path) else { return "cannot be opened" }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 64)) ?? Data()
        return BPFObjectHeader.problem(with: head)
    }

    struct ReadFailure: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot read '\(path)': \(reason)" }
    }
}

import BpfleetShared
import Foundation

/// Uploaded ELF objects, content-addressed by sha256, kept in the state
/// directory (`objects/<hex>.o` and its description `objects/<hex>.json`).
struct ObjectStore {
    let directory: String
    private(set) var objects: [String: ObjectDescription] = [:]

    init(stateDirectory: String) throws {
        directory = stateDirectory + "/objects"
        try makeDirectories(directory)
        // An upload a crash interrupted leaves a temporary file, or the
        // object without its description (written second): both go.
        AtomicFile.removeTemporaries(in: directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        for file in files where file.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(file)"),
                  let description = try? JSONDecoder.wire().decode(ObjectDescription.self, from: data),
                  FileManager.default.fileExists(atPath: path(of: description.objectId))
            else { continue }
            objects[description.objectId] = description
        }
        for file in files where file.hasSuffix(".o") && !files.contains(file.dropLast(2) + ".json") {
            unlink("\(directory)/\(file)")
        }
    }

    /// Validates the form of an object id before it becomes a file name.
    static func validate(_ objectId: String) throws(ResponseError) {
        let hex = objectId.dropFirst("sha256:".count)
        guard objectId.hasPrefix("sha256:"), hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw .invalidParams("objectId: expected sha256:<64 lowercase hex digits>", field: "objectId")
        }
    }

    func path(of objectId: String) -> String {
        "\(directory)/\(objectId.dropFirst("sha256:".count)).o"
    }

    func description(of objectId: String) throws(ResponseError) -> ObjectDescription {
        try Self.validate(objectId)
        guard let description = objects[objectId] else { throw .notFound("object", objectId) }
        return description
    }

    func elf(of objectId: String) throws(ResponseError) -> [UInt8] {
        _ = try description(of: objectId)
        guard let data = FileManager.default.contents(atPath: path(of: objectId)) else {
            throw ResponseError(.internalError, "object \(objectId) is missing from the state directory")
        }
        return Array(data)
    }

    /// Stores a described object; storing the same bytes again is a no-op
    /// that returns the first description.
    mutating func add(elf: [UInt8], description: ObjectDescription) throws(ResponseError) -> ObjectDescription {
        if let existing = objects[description.objectId] { return existing }
        let hex = description.objectId.dropFirst("sha256:".count)
        do {
            try AtomicFile.write(elf, to: path(of: description.objectId))
            try AtomicFile.write(Array(try JSONEncoder.wire().encode(description)), to: "\(directory)/\(hex).json")
        } catch {
            unlink(path(of: description.objectId))
            throw ResponseError(.internalError, "could not store the object: \(error)")
        }
        objects[description.objectId] = description
        return description
    }

    /// Rewrites a stored object's description (new signatures, or the
    /// policy's new verdict); the bytes stay.
    mutating func update(_ description: ObjectDescription) throws(ResponseError) -> ObjectDescription {
        guard objects[description.objectId] != description else { return description }
        let hex = description.objectId.dropFirst("sha256:".count)
        do {
            try AtomicFile.write(Array(try JSONEncoder.wire().encode(description)), to: "\(directory)/\(hex).json")
        } catch {
            throw ResponseError(.internalError, "could not store the object's description: \(error)")
        }
        objects[description.objectId] = description
        return description
    }

    // MARK: Signatures

    /// The most signatures one object holds.
    static let maxSignatures = 16

    /// Each signature's fields within the lengths their forms have, before
    /// anything reads them.
    static func checkForm(_ signatures: [ObjectSignature]) throws(ResponseError) {
        guard signatures.count <= maxSignatures else {
            throw .invalidParams("signatures: at most \(maxSignatures), got \(signatures.count)", field: "signatures")
        }
        for (index, signature) in signatures.enumerated() {
            let fields = [("format", signature.format, 64), ("digest", signature.digest, 71), ("keyId", signature.keyId, 64),
                          ("signature", signature.signature, 128)]
            for (name, value, limit) in fields where value.utf8.count > limit || value.isEmpty {
                throw .invalidParams("signatures[\(index)].\(name): 1 to \(limit) bytes, got \(value.utf8.count)",
                                     field: "signatures[\(index)].\(name)")
            }
        }
    }

    /// The signatures an object holds and new ones, each once, in order.
    static func merged(_ held: [ObjectSignature], _ new: [ObjectSignature]) -> [ObjectSignature] {
        var seen = Set<ObjectSignature>()
        return (held + new).filter { seen.insert($0).inserted }
    }

    mutating func remove(_ objectId: String) {
        let hex = objectId.dropFirst("sha256:".count)
        unlink("\(directory)/\(hex).json")
        unlink(path(of: objectId))
        objects[objectId] = nil
    }
}

extension ObjectDescription {
    /// Records the signatures the object holds and what the node's object
    /// policy made of them (no verdict without a policy).
    mutating func judged(_ verdict: ObjectPolicy.Verdict?, signatures: [ObjectSignature]) {
        self.signatures = signatures.isEmpty ? nil : signatures
        signers = verdict?.signers
        policy = verdict?.name
    }
}

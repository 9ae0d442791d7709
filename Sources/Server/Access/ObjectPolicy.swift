import BpfleetShared
import Crypto
import CryptoExtras
import Foundation
import NIOConcurrencyHelpers
import Yams

/// The node's object policy (`--object-policy FILE`, YAML): which keys it
/// trusts, how many of them must have signed an object, which objects it
/// takes at all, and what becomes of an object without enough signatures.
/// Read at start and again on SIGHUP; a file that does not read on reload
/// leaves the policy as it was. See docs/security.md, "Object policy".
public final class ObjectPolicy: Sendable {
    /// A trusted key as the file gives it: its PEM inline or in a file
    /// (relative to the policy's directory).
    struct KeyEntry: Decodable, Sendable {
        var name: String
        var publicKey: String?
        var publicKeyFile: String?
    }

    /// The file as written.
    struct File: Decodable, Sendable {
        var trustedKeys: [KeyEntry]?
        var requiredSignatures: Int?
        var allowedObjects: [String]?
        var unsigned: String?
    }

    static let fileKeys: Set<String> = ["trustedKeys", "requiredSignatures", "allowedObjects", "unsigned"]
    static let keyEntryKeys: Set<String> = ["name", "publicKey", "publicKeyFile"]
    /// Bounds on what the file may hold: it is read as root.
    static let maxFileBytes = 1 << 20
    static let maxKeyFileBytes = 64 << 10
    static let maxKeys = 256

    enum Unsigned: String, Sendable {
        case refuse, audit
    }

    struct TrustedKey: Sendable {
        var name: String
        var keyId: String
        var publicKey: Curve25519.Signing.PublicKey
    }

    /// The file, read and checked.
    struct Rules: Sendable {
        var keys: [String: TrustedKey] = [:]
        var requiredSignatures = 1
        var allowedObjects: Set<String>?
        var unsigned = Unsigned.refuse
    }

    /// What the policy made of an object it lets in: the trusted keys whose
    /// signatures verified, and why it was let in without enough of them
    /// (`unsigned: audit`), if so.
    public struct Verdict: Sendable, Equatable {
        public var signers: [ObjectSigner]
        public var audited: String?

        /// `satisfied` or `audited`, as descriptions say it.
        public var name: String { audited == nil ? "satisfied" : "audited" }
    }

    public let path: String
    private let rules: NIOLockedValueBox<Rules>

    public init(path: String) throws {
        self.path = path
        self.rules = NIOLockedValueBox(try Self.load(path))
    }

    /// Reads the file again; on failure the current policy stays.
    public func reload() throws {
        let fresh = try Self.load(path)
        rules.withLockedValue { $0 = fresh }
    }

    static func load(_ path: String) throws -> Rules {
        guard let data = readBounded(path, limit: maxFileBytes) else {
            throw StartupError("cannot read the object policy \(path) (a readable file of at most \(maxFileBytes) bytes)",
                               exitStatus: StartupError.configurationExitStatus)
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try rules(from: data, in: path) { file in
            let resolved = file.hasPrefix("/") ? file : directory + "/" + file
            return readBounded(resolved, limit: maxKeyFileBytes).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// At most `limit` bytes of a regular file, or nil.
    private static func readBounded(_ path: String, limit: Int) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var info = stat()
        guard fstat(handle.fileDescriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= limit,
              let data = try? handle.read(upToCount: limit + 1), data.count <= limit else { return nil }
        return data
    }

    /// The rules a policy file's bytes give; `path` names the file in
    /// errors, `keyFile` reads a `publicKeyFile` (nil: unreadable).
    static func rules(from data: Data, in path: String, keyFile: (String) -> String?) throws -> Rules {
        // A policy that does not read is not fixed by starting again (78).
        func refuse(_ text: String) -> StartupError {
            StartupError("object policy \(path): \(text)", exitStatus: StartupError.configurationExitStatus)
        }
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) else {
                throw refuse("the file is empty")
            }
            node = composed
        } catch let error as StartupError {
            throw error
        } catch {
            throw refuse("\(error)")
        }
        // Unknown keys are refused: a misspelt `requiredSignatures` must
        // not quietly become the default of one.
        guard let mapping = node.mapping else { throw refuse("expected a mapping of \(fileKeys.sorted().joined(separator: ", "))") }
        try checkKeys(of: mapping, known: fileKeys, where: "", refuse)
        if let keys = mapping["trustedKeys"]?.sequence {
            for (index, entry) in keys.enumerated() {
                guard let entry = entry.mapping else { throw refuse("trustedKeys[\(index)]: expected a mapping of name and publicKey or publicKeyFile") }
                try checkKeys(of: entry, known: keyEntryKeys, where: "trustedKeys[\(index)].", refuse)
            }
        }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: node)
        } catch {
            throw refuse("\(error)")
        }

        var rules = Rules()
        let entries = file.trustedKeys ?? []
        guard entries.count <= maxKeys else { throw refuse("trustedKeys: at most \(maxKeys) keys, got \(entries.count)") }
        for (index, entry) in entries.enumerated() {
            let name = entry.name
            guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
                throw refuse("trustedKeys[\(index)].name: 1 to 64 letters, digits, '-', '_', '.' or '@', got '\(name.prefix(80))'")
            }
            let pem: String
            switch (entry.publicKey, entry.publicKeyFile) {
            case (let text?, nil):
                pem = text
            case (nil, let file?):
                guard let text = keyFile(file) else { throw refuse("trustedKeys[\(index)] (\(name)): cannot read publicKeyFile \(file)") }
                pem = text
            default:
                throw refuse("trustedKeys[\(index)] (\(name)): give publicKey (the PEM) or publicKeyFile, one of them")
            }
            let publicKey: Curve25519.Signing.PublicKey
            do {
                publicKey = try Curve25519.Signing.PublicKey(pemRepresentation: pem)
            } catch {
                throw refuse("trustedKeys[\(index)] (\(name)): not an Ed25519 public key in PEM (as `bpfleet keygen` writes NAME.pub)")
            }
            let keyId = ObjectSignature.keyID(of: publicKey)
            if let twin = rules.keys[keyId] { throw refuse("trustedKeys[\(index)] (\(name)): the same key as \(twin.name) (\(keyId))") }
            if rules.keys.values.contains(where: { $0.name == name }) { throw refuse("trustedKeys[\(index)]: the name \(name) is given twice") }
            rules.keys[keyId] = TrustedKey(name: name, keyId: keyId, publicKey: publicKey)
        }
        if let unsigned = file.unsigned {
            guard let mode = Unsigned(rawValue: unsigned) else { throw refuse("unsigned: refuse or audit, not '\(unsigned.prefix(80))'") }
            rules.unsigned = mode
        }
        if let objects = file.allowedObjects {
            var allowed = Set<String>()
            for (index, digest) in objects.enumerated() {
                do throws(ResponseError) {
                    try ObjectStore.validate(digest)
                } catch {
                    throw refuse("allowedObjects[\(index)]: expected sha256:<64 lowercase hex digits>, got '\(digest.prefix(80))'")
                }
                allowed.insert(digest)
            }
            rules.allowedObjects = allowed
        }
        rules.requiredSignatures = file.requiredSignatures ?? 1
        guard rules.requiredSignatures >= 0 else { throw refuse("requiredSignatures: 0 or more, got \(rules.requiredSignatures)") }
        if rules.requiredSignatures == 0, rules.allowedObjects == nil {
            throw refuse("requiredSignatures: 0 lets every object in; give allowedObjects with it, or require signatures")
        }
        if rules.unsigned == .refuse, rules.requiredSignatures > rules.keys.count {
            throw refuse("requiredSignatures is \(rules.requiredSignatures) but trustedKeys has \(rules.keys.count): no object could be loaded")
        }
        return rules
    }

    private static func checkKeys(of mapping: Node.Mapping, known: Set<String>, where prefix: String,
                                  _ refuse: (String) -> StartupError) throws {
        for key in mapping.keys {
            guard let name = key.string, known.contains(name) else {
                throw refuse("\(prefix)\(key.string.map { "'\($0.prefix(80))'" } ?? "a key") is not a key of the object policy (\(known.sorted().joined(separator: ", ")))")
            }
        }
    }

    // MARK: Judging

    /// Whether the object of `digest` may be stored and loaded with these
    /// signatures: the verdict, or -32002 naming what is missing
    /// (`data.policy`). A signature that does not hold (other bytes, a
    /// trusted key's signature that does not verify, another format) is
    /// refused whatever `unsigned` says: it is a mistake or a forgery,
    /// not an object nobody signed.
    public func judge(digest: String, signatures: [ObjectSignature]) throws(ResponseError) -> Verdict {
        let rules = rules.withLockedValue { $0 }
        return try Self.judge(digest: digest, signatures: signatures, rules: rules, path: path)
    }

    static func judge(digest: String, signatures: [ObjectSignature], rules: Rules, path: String) throws(ResponseError) -> Verdict {
        var signers: [String: ObjectSigner] = [:]
        var untrusted: [String] = []
        var broken: [(keyId: String, reason: String)] = []
        for signature in signatures {
            let signer = rules.keys[signature.keyId]
            let who = signer.map { "\($0.name) (\($0.keyId))" } ?? signature.keyId
            if signature.format != ObjectSignature.format {
                broken.append((signature.keyId, "the signature by \(who) is of format '\(signature.format)', not \(ObjectSignature.format)"))
            } else if signature.digest != digest {
                broken.append((signature.keyId, "the signature by \(who) is of other bytes (\(signature.digest))"))
            } else if let signer {
                if signature.isValid(publicKey: signer.publicKey) {
                    signers[signer.keyId] = ObjectSigner(keyId: signer.keyId, name: signer.name)
                } else {
                    broken.append((signature.keyId, "the signature by \(who) does not verify"))
                }
            } else if !untrusted.contains(signature.keyId) {
                untrusted.append(signature.keyId)
            }
        }
        let trusted = signers.values.sorted { $0.name < $1.name }
        var policy: [String: JSONValue] = [
            "file": .string(path),
            "requiredSignatures": .int(Int64(rules.requiredSignatures)),
            "unsigned": .string(rules.unsigned.rawValue),
            "signers": .array(trusted.map { ["keyId": .string($0.keyId), "name": .string($0.name)] }),
            "untrustedKeys": .array(untrusted.map(JSONValue.string)),
        ]
        func refusal(_ reason: String, _ extra: [String: JSONValue]) -> ResponseError {
            policy.merge(extra) { _, new in new }
            return ResponseError(.permissionDenied, "object \(digest): \(reason)",
                                 data: ["objectId": .string(digest), "policy": .object(policy)])
        }
        if let allowed = rules.allowedObjects, !allowed.contains(digest) {
            throw refusal("not among the objects this node's object policy allows (allowedObjects)", ["allowed": false])
        }
        if let first = broken.first {
            throw refusal(first.reason, ["invalidSignatures": .array(broken.map { ["keyId": .string($0.keyId), "reason": .string($0.reason)] })])
        }
        if trusted.count >= rules.requiredSignatures { return Verdict(signers: trusted, audited: nil) }

        let needs = rules.requiredSignatures == 1 ? "1 signature by a trusted key" : "\(rules.requiredSignatures) signatures by distinct trusted keys"
        var reason: String
        if signatures.isEmpty {
            reason = "not signed, and this node's object policy needs \(needs)"
        } else if trusted.isEmpty {
            reason = "no signature by a trusted key (\(untrusted.joined(separator: ", ")) \(untrusted.count == 1 ? "is" : "are") not in the object policy), and the policy needs \(needs)"
        } else {
            reason = "\(trusted.count) \(trusted.count == 1 ? "signature" : "signatures") by a trusted key (\(trusted.map(\.name).joined(separator: ", "))), and this node's object policy needs \(needs)"
            if !untrusted.isEmpty { reason += "; \(untrusted.joined(separator: ", ")) \(untrusted.count == 1 ? "is" : "are") not in the policy" }
        }
        if rules.unsigned == .audit { return Verdict(signers: trusted, audited: reason) }
        throw refusal(reason, ["missing": .int(Int64(rules.requiredSignatures - trusted.count))])
    }
}

import Crypto
import Foundation

/// A detached signature of a BPF object (`bpfleet sign`): Ed25519 over the
/// object's SHA-256 and the signer's key id, so a signature names what it
/// signs and who signed it, and cannot be moved to other bytes or passed
/// off as another key's.
///
/// The signed message is three lines of text:
///
///     bpfleet-object-signature-v1
///     sha256:<the object's 64 hex digits>
///     ed25519:<the key id's 16 hex digits>
///
/// The file is one JSON object: `{"format": "bpfleet-object-signature-v1",
/// "digest": "sha256:...", "keyId": "ed25519:...", "signature": BASE64}`,
/// and `object.upload` takes it as it is.
public struct ObjectSignature: Codable, Sendable, Hashable {
    public static let format = "bpfleet-object-signature-v1"

    public var format: String
    public var digest: String
    public var keyId: String
    public var signature: String

    public init(format: String = Self.format, digest: String, keyId: String, signature: String) {
        self.format = format
        self.digest = digest
        self.keyId = keyId
        self.signature = signature
    }

    /// Signs `object` with `key`.
    public init(signing object: Data, with key: Curve25519.Signing.PrivateKey) throws {
        let digest = Self.digest(of: object)
        let keyId = Self.keyID(of: key.publicKey)
        self.init(digest: digest, keyId: keyId,
                  signature: try key.signature(for: Self.message(digest: digest, keyId: keyId)).base64EncodedString())
    }

    /// Whether this is `publicKey`'s signature of `object`.
    public func isValid(for object: Data, publicKey: Curve25519.Signing.PublicKey) -> Bool {
        digest == Self.digest(of: object) && isValid(publicKey: publicKey)
    }

    /// Whether this is `publicKey`'s signature of the digest it names.
    public func isValid(publicKey: Curve25519.Signing.PublicKey) -> Bool {
        guard format == Self.format, keyId == Self.keyID(of: publicKey),
              let bytes = Data(base64Encoded: signature) else { return false }
        return publicKey.isValidSignature(bytes, for: Self.message(digest: digest, keyId: keyId))
    }

    /// `sha256:` and the object's 64 lowercase hex digits: its object id.
    /// Also the form of manifest spec hashes.
    public static func digest(of object: some DataProtocol) -> String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = Array("sha256:".utf8)
        for byte in SHA256.hash(data: object) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// `ed25519:` and the first 16 hex digits of the SHA-256 of the raw
    /// 32-byte public key.
    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        "ed25519:" + SHA256.hash(data: key.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    public static func message(digest: String, keyId: String) -> Data {
        Data("\(format)\n\(digest)\n\(keyId)\n".utf8)
    }

    /// The file's text: one JSON object, keys sorted, and a newline.
    public func fileText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}

/// A trusted key whose signature of an object verified: its id and the
/// name the node's object policy gives it.
public struct ObjectSigner: Codable, Sendable, Hashable {
    public var keyId: String
    public var name: String

    public init(keyId: String, name: String) {
        self.keyId = keyId
        self.name = name
    }

    /// `name (ed25519:...)`, as people read it.
    public var description: String { "\(name) (\(keyId))" }
}

extension ObjectSignature: WireDocumented {
    public static let wireSummary = "A detached Ed25519 signature of an object, as `bpfleet sign` writes it: over the three lines `bpfleet-object-signature-v1`, the object's digest and the key id, each ended by a newline."
    public static let wireFields: [String: WireField] = [
        "format": "`bpfleet-object-signature-v1`.",
        "digest": "The signed object's id: `sha256:` and the hex digest of its bytes.",
        "keyId": "The signer's key id: `ed25519:` and the first 16 hex digits of the SHA-256 of the raw public key.",
        "signature": "The 64-byte Ed25519 signature, base64.",
    ]
}

extension ObjectSigner: WireDocumented {
    public static let wireSummary = "A key of the node's object policy whose signature of the object verified."
    public static let wireFields: [String: WireField] = [
        "keyId": "The key id (`ed25519:...`).",
        "name": "The name the node's object policy gives the key.",
    ]
}

import BpfleetShared
import Crypto
import CryptoExtras
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
/// "digest": "sha256:...", "keyId": "ed25519:...", "signature": BASE64}`.
public struct ObjectSignature: Codable, Sendable, Hashable {
    public static let format = "bpfleet-object-signature-v1"

    public var format: String
    public var digest: String
    public var keyId: String
    public var signature: String

    /// Signs `object` with `key`.
    public init(signing object: Data, with key: Curve25519.Signing.PrivateKey) throws {
        let digest = Self.digest(of: object)
        let keyId = Self.keyID(of: key.publicKey)
        self.format = Self.format
        self.digest = digest
        self.keyId = keyId
        self.signature = try key.signature(for: Self.message(digest: digest, keyId: keyId)).base64EncodedString()
    }

    /// Whether this is `publicKey`'s signature of `object`.
    public func isValid(for object: Data, publicKey: Curve25519.Signing.PublicKey) -> Bool {
        guard format == Self.format, digest == Self.digest(of: object), keyId == Self.keyID(of: publicKey),
              let bytes = Data(base64Encoded: signature) else { return false }
        return publicKey.isValidSignature(bytes, for: Self.message(digest: digest, keyId: keyId))
    }

    /// `sha256:` and the object's 64 hex digits: its object id.
    public static func digest(of object: Data) -> String {
        ProbeManifest.objectId(of: object)
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

import BpfleetShared
@testable import BpfleetClient
import Crypto
import Foundation
import Testing

/// A detached object signature: valid for its object and key only.
@Suite("Object signatures")
struct ObjectSignatureTests {
    @Test func aSignatureHoldsForItsBytesAndItsKeyOnly() throws {
        let key = Curve25519.Signing.PrivateKey()
        let object = Data("\u{7F}ELF a BPF object".utf8)
        let signature = try ObjectSignature(signing: object, with: key)
        #expect(signature.isValid(for: object, publicKey: key.publicKey))
        #expect(!signature.isValid(for: object + Data([0]), publicKey: key.publicKey))
        #expect(!signature.isValid(for: object, publicKey: Curve25519.Signing.PrivateKey().publicKey))
        var moved = signature
        moved.digest = ObjectSignature.digest(of: Data("other".utf8))
        #expect(!moved.isValid(for: Data("other".utf8), publicKey: key.publicKey))
        var renamed = signature
        renamed.keyId = "ed25519:0000000000000000"
        #expect(!renamed.isValid(for: object, publicKey: key.publicKey))
        #expect(String(decoding: ObjectSignature.message(digest: "sha256:ab", keyId: "ed25519:cd"), as: UTF8.self)
                == "bpfleet-object-signature-v1\nsha256:ab\ned25519:cd\n")
        #expect(ObjectSignature.digest(of: Data()) == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

@testable import BpfleetServer
import BpfleetShared
import Crypto
import CryptoExtras
import Foundation
import Testing

/// The object policy's judgement, without a node: the kept fuzz seeds'
/// real signatures, and the order and counting of signers.
@Suite("Object policy rules")
struct ObjectPolicyRulesTests {
    let zero = "sha256:" + String(repeating: "0", count: 64)

    func rules(_ text: String, keys: [String: Curve25519.Signing.PrivateKey] = [:]) throws -> ObjectPolicy.Rules {
        try ObjectPolicy.rules(from: Data(text.utf8), in: "p.yaml") { name in
            keys[name].map { $0.publicKey.pemRepresentation }
        }
    }

    @Test func theFuzzSeedsSignaturesAreRealOnes() throws {
        let seed = FuzzSeed.all("policy").first { $0.name == "signed-by-file-key" }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try #require(seed).path))
        let split = try #require(bytes.firstIndex(of: 0))
        let key = try #require(ServerFuzzTargets.policyKey)
        let rules = try self.rules(String(decoding: bytes[..<split], as: UTF8.self), keys: ["a.pub": key])
        let signatures = try JSONDecoder().decode([ObjectSignature].self, from: bytes[(split + 1)...])
        let verdict = try ObjectPolicy.judge(digest: zero, signatures: signatures, rules: rules, path: "p.yaml")
        #expect(verdict == ObjectPolicy.Verdict(signers: [ObjectSigner(keyId: ObjectSignature.keyID(of: key.publicKey), name: "a")], audited: nil))
    }

    @Test func signersAreCountedOnceEachAndListedByName() throws {
        let zed = Curve25519.Signing.PrivateKey(), ann = Curve25519.Signing.PrivateKey()
        let rules = try self.rules("trustedKeys:\n  - {name: zed, publicKeyFile: z}\n  - {name: ann, publicKeyFile: a}\nrequiredSignatures: 2\n",
                                   keys: ["z": zed, "a": ann])
        let object = Data("object".utf8)
        let byZed = try ObjectSignature(signing: object, with: zed), byAnn = try ObjectSignature(signing: object, with: ann)
        let digest = ObjectSignature.digest(of: object)
        let verdict = try ObjectPolicy.judge(digest: digest, signatures: [byZed, byAnn, byZed], rules: rules, path: "p.yaml")
        #expect(verdict.signers.map(\.name) == ["ann", "zed"])
        #expect(throws: ResponseError.self) {
            try ObjectPolicy.judge(digest: digest, signatures: [byZed, byZed], rules: rules, path: "p.yaml")
        }
        // A trusted key's signature bytes changed: refused as not verifying.
        var forged = byAnn
        forged.signature = try ObjectSignature(signing: Data("other".utf8), with: ann).signature
        do {
            _ = try ObjectPolicy.judge(digest: digest, signatures: [byZed, forged], rules: rules, path: "p.yaml")
            Issue.record("a forged signature was taken")
        } catch {
            #expect(error.code == .permissionDenied)
            #expect(error.message == "object \(digest): the signature by ann (\(byAnn.keyId)) does not verify")
        }
    }

    @Test func theSameKeyTwiceOrANameTwiceIsRefused() throws {
        let key = Curve25519.Signing.PrivateKey()
        #expect(throws: StartupError.self) { try rules("trustedKeys:\n  - {name: a, publicKeyFile: k}\n  - {name: b, publicKeyFile: k}\n", keys: ["k": key]) }
        #expect(throws: StartupError.self) {
            try rules("trustedKeys:\n  - {name: a, publicKeyFile: k}\n  - {name: a, publicKeyFile: l}\n", keys: ["k": key, "l": Curve25519.Signing.PrivateKey()])
        }
        #expect(throws: StartupError.self) { try rules("trustedKeys:\n  - {name: a, publicKeyFile: k, extra: 1}\n", keys: ["k": key]) }
        #expect(throws: StartupError.self) { try rules("- just a list\n") }
        #expect(throws: StartupError.self) { try rules("") }
    }
}

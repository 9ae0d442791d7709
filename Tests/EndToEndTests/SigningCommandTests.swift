import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `bpfleet keygen` and `bpfleet sign` (issue 18's first slice): the key
/// files and their modes, and a signature that openssl, the independent
/// witness, verifies over the documented message, and not over other
/// bytes. No node is asked.
@Suite(.requiresServer)
struct SigningCommandTests {
    static let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// openssl's verdict on `signature` (the file's JSON) for `object`,
    /// with the public key at `publicKey`: the message rebuilt from the
    /// object's own digest, not the one the file claims.
    func opensslVerifies(_ signature: JSONValue, object: Data, publicKey: String, in directory: String) throws -> Bool {
        let openssl = try #require(Self.openssl, "openssl is not installed")
        let digest = try #require(try run("/usr/bin/sha256sum", [directory + "/object"]).stdout.split(separator: 0x20).first)
        let message = "bpfleet-object-signature-v1\nsha256:\(String(decoding: digest, as: UTF8.self))\n\(signature["keyId"]?.stringValue ?? "")\n"
        try createFile(directory + "/message", contents: Data(message.utf8))
        let bytes = try #require(Data(base64Encoded: signature["signature"]?.stringValue ?? ""))
        try createFile(directory + "/signature.bin", contents: bytes)
        let verified = try run(openssl, ["pkeyutl", "-verify", "-pubin", "-inkey", publicKey, "-rawin",
                                         "-in", directory + "/message", "-sigfile", directory + "/signature.bin"])
        return verified.status == 0
    }

    @Test func keygenWritesAPrivateKeyOnlyItsOwnerReadsAndSignIsVerifiedByOpenssl() throws {
        let directory = try temporaryDirectory("signing")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = directory + "/keys"
        let made = try bpfleet(["keygen", "--out", keys, "--name", "alice"])
        #expect(made.status == 0, "\(made.stderr)")
        let mode = { (path: String) in (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        #expect(mode(keys) == 0o700)
        #expect(mode(keys + "/alice.key") == 0o600)
        #expect(mode(keys + "/alice.pub") == 0o644)
        #expect(try String(contentsOfFile: keys + "/alice.key", encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let keyID = try #require(made.stdout.split(separator: "\n").first.map { String($0.dropFirst("key id  ".count)) })
        #expect(keyID.wholeMatch(of: /ed25519:[0-9a-f]{16}/) != nil, "\(made.stdout)")
        // openssl reads the pair as Ed25519.
        let openssl = try #require(Self.openssl, "openssl is not installed")
        let text = try run(openssl, ["pkey", "-in", keys + "/alice.key", "-noout", "-text"])
        #expect(String(decoding: text.stdout, as: UTF8.self).hasPrefix("ED25519 Private-Key:"))
        let again = try bpfleet(["keygen", "--out", keys, "--name", "alice"])
        #expect(again.status == 64)
        #expect(again.stderr.contains("\(keys)/alice.pub already exists (--force replaces it)"), "\(again.stderr)")

        let object = try Data(contentsOf: URL(fileURLWithPath: TestEnvironment.programPath("exec_count")))
        try createFile(directory + "/object", contents: object)
        let signed = try bpfleet(["sign", directory + "/object", "--key", keys + "/alice.key"])
        #expect(signed.status == 0, "\(signed.stderr)")
        let signatureText = try String(contentsOfFile: directory + "/object.sig", encoding: .utf8)
        let signature = try JSONDecoder().decode(JSONValue.self, from: Data(signatureText.utf8))
        let digest = "sha256:" + String(decoding: try #require(try run("/usr/bin/sha256sum", [directory + "/object"]).stdout.split(separator: 0x20).first), as: UTF8.self)
        #expect(signed.stdout == "signed \(directory)/object (\(digest)) with key \(keyID): \(directory)/object.sig\n")
        #expect(signature["format"] == "bpfleet-object-signature-v1")
        #expect(signature["digest"] == .string(digest))
        #expect(signature["keyId"] == .string(keyID))
        #expect(try opensslVerifies(signature, object: object, publicKey: keys + "/alice.pub", in: directory))

        // Other bytes, or another key: openssl says no.
        var changed = object
        changed[changed.count - 1] ^= 0xff
        try createFile(directory + "/object", contents: changed)
        #expect(try !opensslVerifies(signature, object: changed, publicKey: keys + "/alice.pub", in: directory))
        try createFile(directory + "/object", contents: object)
        #expect(try bpfleet(["keygen", "--out", keys, "--name", "mallory"]).status == 0)
        #expect(try !opensslVerifies(signature, object: object, publicKey: keys + "/mallory.pub", in: directory))

        // What sign refuses, before anything is written.
        let twice = try bpfleet(["sign", directory + "/object", "--key", keys + "/alice.key"])
        #expect(twice.status == 64)
        #expect(twice.stderr.contains("\(directory)/object.sig already exists (--force replaces it)"), "\(twice.stderr)")
        let notELF = try bpfleet(["sign", keys + "/alice.pub", "--key", keys + "/alice.key"])
        #expect(notELF.status == 64)
        #expect(notELF.stderr.hasPrefix("Error: '\(keys)/alice.pub': not an ELF file"), "\(notELF.stderr)")
        let notKey = try bpfleet(["sign", directory + "/object", "--key", keys + "/alice.pub", "--out", directory + "/x.sig"])
        #expect(notKey.status == 64)
        #expect(notKey.stderr.contains("--key \(keys)/alice.pub: not an Ed25519 private key in PEM (bpfleet keygen makes one)"), "\(notKey.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/x.sig"))
        // --key alone is a signing key to sign, and still needs --cert where nodes are asked.
        let lone = try bpfleet(["-n", "unix:/nonexistent.sock", "probe", "list", "--key", keys + "/alice.key"])
        #expect(lone.status == 64)
        #expect(lone.stderr == "bpfleet: --cert and --key go together: a certificate and its private key\n")
    }
}

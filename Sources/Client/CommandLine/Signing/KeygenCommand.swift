import ArgumentParser
import BpfleetShared
import Crypto
import CryptoExtras
import Foundation

/// `bpfleet keygen --out DIR --name NAME`: an Ed25519 key pair for signing
/// BPF objects (docs/security.md, "Signed objects").
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 key pair for signing BPF objects: NAME.key (0600) and NAME.pub.",
        discussion: "Both PEM (PKCS#8 and SubjectPublicKeyInfo), as openssl reads them. Talks to no node. Nothing is replaced without --force.")

    @Option(help: ArgumentHelp("The directory to write to (made 0700 when missing).", valueName: "dir"))
    var out: String

    @Option(help: "The key pair's name: the files are NAME.key and NAME.pub.")
    var name: String

    @Flag(help: "Replace existing files.")
    var force = false

    func validate() throws {
        try CertificateFiles.checkName(name)
    }

    func run() throws {
        let files: CertificateFiles
        do {
            files = try CertificateFiles(directory: out, certificate: name + ".pub", key: name + ".key", force: force)
        } catch {
            throw ValidationError("\(error)")
        }
        let key = Curve25519.Signing.PrivateKey()
        do {
            try PEMFile.write(key.pemRepresentation + "\n", to: files.keyPath, mode: 0o600)
            try PEMFile.write(key.publicKey.pemRepresentation + "\n", to: files.certificatePath, mode: 0o644)
        } catch {
            throw ValidationError("\(error)")
        }
        let output = StandardStream.output()
        output.write("key id  \(ObjectSignature.keyID(of: key.publicKey))\nprivate \(files.keyPath) (0600: keep it)\npublic  \(files.certificatePath) (for the nodes' object policy)\n")
        output.flush()
    }
}

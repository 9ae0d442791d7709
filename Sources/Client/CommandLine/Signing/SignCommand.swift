import ArgumentParser
import BpfleetShared
import Crypto
import CryptoExtras
import Foundation

/// `bpfleet sign FILE --key KEY [--out SIG]`: a detached signature of a BPF
/// object (`ObjectSignature`), written beside it as FILE.sig.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a BPF object with an Ed25519 key (bpfleet keygen): a detached signature, FILE.sig.",
        discussion: """
            --key is the Ed25519 private key (PEM) bpfleet keygen writes; it is the same flag as the \
            TLS client key of commands that ask nodes, and sign asks none. The signature covers the \
            object's SHA-256 and the key's id. Nothing is replaced without --force.
            """)

    /// `--key` is read through the global options: declared on the root
    /// command too, ArgumentParser hands the flag to them.
    @OptionGroup var options: GlobalOptions

    @Argument(help: "The BPF ELF object.")
    var file: String

    @Option(help: ArgumentHelp("Where the signature goes (default: FILE.sig).", valueName: "file"))
    var out: String?

    @Flag(help: "Replace an existing signature file.")
    var force = false

    func validate() throws {
        guard options.key != nil else { throw ValidationError("--key: the private key to sign with (bpfleet keygen makes one)") }
        try ObjectFile.validate(file)
    }

    func run() throws {
        let key = options.key ?? ""
        let privateKey: Curve25519.Signing.PrivateKey
        switch TextFile.read(key) {
        case .failure(let failure):
            throw ValidationError("--key \(key): \(failure.text)")
        case .success(let text):
            do {
                privateKey = try Curve25519.Signing.PrivateKey(pemRepresentation: text)
            } catch {
                throw ValidationError("--key \(key): not an Ed25519 private key in PEM (bpfleet keygen makes one)")
            }
        }
        let object: Data
        do {
            object = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ValidationError("'\(file)': cannot be read")
        }
        let destination = out ?? file + ".sig"
        if !force, FileManager.default.fileExists(atPath: destination) {
            throw ValidationError("\(destination) already exists (--force replaces it)")
        }
        let signature: ObjectSignature
        do {
            signature = try ObjectSignature(signing: object, with: privateKey)
            try PEMFile.write(try signature.fileText(), to: destination, mode: 0o644)
        } catch {
            throw ValidationError("cannot sign '\(file)': \(error)")
        }
        let output = StandardStream.output()
        output.write("signed \(file) (\(signature.digest)) with key \(signature.keyId): \(destination)\n")
        output.flush()
    }
}

import BpfleetShared
import Crypto
import Foundation

/// The client's parsers as fuzz targets (docs/fuzzing.md): libFuzzer calls
/// them (`make fuzz`) and the unit tests replay every kept seed through
/// them; whatever the bytes, they must return.
public enum ClientFuzzTargets {
    /// Where a fuzzed manifest's `object: probe.bpf.o` is found: a
    /// temporary directory holding a 64-byte BPF ELF header, made once, and
    /// `probe.sig`, a real signature of it (for `signatures: [probe.sig]`).
    static let objectDirectory: String = {
        let directory = NSTemporaryDirectory() + "bpfleet-fuzz-manifest-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var header = [UInt8](repeating: 0, count: 64)
        header[0...3] = [0x7F, 0x45, 0x4C, 0x46]
        header[4] = 2     // ELF64
        header[5] = 1     // little-endian
        header[6] = 1
        header[16] = 1    // ET_REL
        header[18] = 247  // EM_BPF
        _ = FileManager.default.createFile(atPath: directory + "/probe.bpf.o", contents: Data(header))
        let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
        if let key, let text = try? ObjectSignature(signing: Data(header), with: key).fileText() {
            _ = FileManager.default.createFile(atPath: directory + "/probe.sig", contents: Data(text.utf8))
        }
        return directory
    }()

    /// A manifest's bytes through the reader `bpfleet apply` uses (every
    /// document a probe), and for each accepted probe, the spec it hashes
    /// and the calls it makes.
    public static func manifest(_ bytes: UnsafeRawBufferPointer) {
        let yaml = String(decoding: bytes, as: UTF8.self)
        let manifests: [ProbeManifest]
        do {
            manifests = try ProbeManifest.parseAll(yaml: yaml, file: "probe.yaml", directory: objectDirectory)
        } catch {
            _ = error.description
            return
        }
        for manifest in manifests {
            _ = manifest.specHash
            _ = manifest.nodeLabels
            _ = manifest.objectUpload
        }
    }
}

@testable import BpfleetClient
import Foundation

/// A fresh temporary directory for manifest tests, with ELF files that are
/// (and are not) BPF objects: the manifest checks only the ELF header, so
/// a 64-byte header stands in for a compiled object.
final class ManifestFixture: Sendable {
    let directory: String

    /// The repository's root, for examples/ and programs/build/.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    /// A real object the Makefile builds (`make programs`).
    static let execCountObject = repository + "/programs/build/exec_count.bpf.o"
    static var programsBuilt: Bool { FileManager.default.fileExists(atPath: execCountObject) }

    init() throws {
        directory = NSTemporaryDirectory() + "bpfleet-manifest-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/build", withIntermediateDirectories: true)
        try write("build/probe.bpf.o", Self.elfHeader())
        try write("build/other.bpf.o", Self.elfHeader(padding: [1, 2, 3]))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// An ELF64 header: little-endian, for BPF unless told otherwise.
    static func elfHeader(elfClass: UInt8 = 2, byteOrder: UInt8 = 1, machine: UInt16 = 247, padding: [UInt8] = []) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 64)
        header[0...3] = [0x7F, 0x45, 0x4C, 0x46]
        header[4] = elfClass
        header[5] = byteOrder
        header[6] = 1
        header[16] = 1  // ET_REL
        header[18] = UInt8(machine & 0xFF)
        header[19] = UInt8(machine >> 8)
        return header + padding
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/\(name)"))
    }

    func bytes(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
    }

    func parse(_ yaml: String) throws(ManifestError) -> ProbeManifest {
        try ProbeManifest.parse(yaml: yaml, file: "probe.yaml", directory: directory)
    }

    /// The error `yaml` is refused with, nil when it is not.
    func error(_ yaml: String) -> ManifestError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch {
            return error
        }
    }

    /// The spec hash of a manifest that parses.
    func hash(_ yaml: String) throws -> String {
        try parse(yaml).specHash
    }
}

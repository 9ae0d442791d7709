import Foundation
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `apply -f`, `status -f`, `delete -f` and `diff -f` read probes
/// from, as `kubectl apply -f` does: a file (one probe per YAML document),
/// a directory (its `*.yaml` and `*.yml` files in name order, not its
/// subdirectories), or `-` (standard input; relative object paths start
/// at the working directory). Probes are taken in the order read; a probe
/// named twice is refused, naming both places.
enum ManifestSource {
    /// The most read from standard input: a manifest is a few kilobytes.
    static let standardInputLimit = 16 << 20

    /// How standard input is named in errors (`(stdin):3:1: ...`).
    static let standardInputName = "(stdin)"

    static func load(_ path: String, standardInput: () -> Result<Data, TextFile.ReadFailure> = readStandardInput)
        throws(ManifestError) -> [ProbeManifest] {
        var manifests: [ProbeManifest] = []
        if path == "-" {
            let data: Data
            switch standardInput() {
            case .success(let read): data = read
            case .failure(let failure):
                throw ManifestError(file: standardInputName, line: nil, column: nil, field: nil, "cannot read the manifests: \(failure.text)")
            }
            guard let yaml = String(data: data, encoding: .utf8) else {
                throw ManifestError(file: standardInputName, line: nil, column: nil, field: nil, "cannot read the manifests: not UTF-8 text")
            }
            manifests = try ProbeManifest.parseAll(yaml: yaml, file: standardInputName, directory: FileManager.default.currentDirectoryPath)
        } else if isDirectory(path) {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                throw ManifestError(file: path, line: nil, column: nil, field: nil, "cannot list the directory: \(String(cString: strerror(errno)))")
            }
            let files = names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
                .map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
                .filter { !isDirectory($0) }
            guard !files.isEmpty else {
                throw ManifestError(file: path, line: nil, column: nil, field: nil, "a directory with no manifest in it (no *.yaml or *.yml file)")
            }
            for file in files { manifests += try loadFile(file) }
        } else {
            manifests = try loadFile(path)
        }
        var seen: [String: String] = [:]
        for manifest in manifests {
            if let first = seen[manifest.probe] {
                let places = first == manifest.file ? "twice in \(first)" : "in \(first) and in \(manifest.file)"
                throw ManifestError(file: manifest.file, line: nil, column: nil, field: nil, "probe \(manifest.probe) is given \(places): each probe once")
            }
            seen[manifest.probe] = manifest.file
        }
        return manifests
    }

    private static func loadFile(_ path: String) throws(ManifestError) -> [ProbeManifest] {
        let yaml: String
        switch TextFile.read(path) {
        case .success(let text): yaml = text
        case .failure(let failure):
            throw ManifestError(file: path, line: nil, column: nil, field: nil, "cannot read the manifest: \(failure.text)")
        }
        do {
            return try ProbeManifest.parseAll(yaml: yaml, file: path, directory: (path as NSString).deletingLastPathComponent)
        } catch where error.field == "probe" && error.message.hasPrefix("missing") && isInventory(yaml) {
            // An inventory beside the manifests (examples/ has both).
            throw ManifestError(file: path, line: nil, column: nil, field: nil,
                                "an inventory of nodes, not a probe manifest: give it with --inventory")
        }
    }

    /// Whether a YAML text is an inventory: a mapping with a `nodes` list
    /// and no `probe`.
    private static func isInventory(_ yaml: String) -> Bool {
        guard let root = (try? Yams.compose(yaml: yaml)) ?? nil, let mapping = root.mapping else { return false }
        return mapping["probe"] == nil && mapping["nodes"]?.sequence != nil
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Standard input, whole, up to `standardInputLimit` bytes.
    static func readStandardInput() -> Result<Data, TextFile.ReadFailure> {
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count == 0 { return .success(data) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(TextFile.ReadFailure(text: String(cString: strerror(errno))))
            }
            data.append(contentsOf: chunk[0..<count])
            if data.count > standardInputLimit {
                return .failure(TextFile.ReadFailure(text: "more than \(standardInputLimit >> 20) MiB"))
            }
        }
    }
}

import BpfleetShared
import Foundation
import Yams

extension ProbeManifest {
    /// The manifest's keys, in the order the docs list them.
    static let topKeys = ["probe", "object", "signatures", "programs", "globals", "maps", "metrics", "labels", "keepMaps", "attach", "nodes", "rollout"]
    static let mapSettingKeys = ["maxEntries", "valueSize", "numaNode", "pinning"]
    static let attachKeys = ["program", "target"]
    static let nodesKeys = ["selector", "names"]
    static let rolloutKeys = ["canary", "batch", "maxFailures", "pause", "onFailure", "preflight"]
    /// The longest `rollout.pause`.
    static let longestPause = Duration.seconds(24 * 60 * 60)

    /// Reads the manifest at `path` and the object it names; relative
    /// object paths are relative to the manifest's directory.
    public static func load(path: String) throws(ManifestError) -> ProbeManifest {
        let yaml: String
        switch TextFile.read(path) {
        case .success(let text): yaml = text
        case .failure(let failure):
            throw ManifestError(file: path, line: nil, column: nil, field: nil, "cannot read the manifest: \(failure.text)")
        }
        return try parse(yaml: yaml, file: path, directory: (path as NSString).deletingLastPathComponent)
    }

    /// Parses a manifest's text: `file` names it in errors, `directory` is
    /// where a relative `object` path starts. The object is read and
    /// checked too. The first mistake refuses the whole manifest, with the
    /// line, the column and the field (see `ManifestError`).
    ///
    /// A file holds one YAML document, one probe: a second document with
    /// anything in it (after `---`) is refused rather than silently
    /// ignored; empty ones (a stray `---` at the end) do not count.
    public static func parse(yaml: String, file: String, directory: String) throws(ManifestError) -> ProbeManifest {
        let reader = ManifestReader(file: file)
        guard let root = try reader.document(yaml) else {
            throw ManifestError(file: file, line: 1, column: 1, field: nil, "the manifest is empty: it needs at least probe and object")
        }
        return try manifest(root, reader: reader, file: file, directory: directory)
    }

    /// Parses a stream of manifests, a probe per YAML document (`---`
    /// between them), as `apply -f` takes it. Empty documents do not
    /// count; a stream with none is refused as an empty manifest.
    public static func parseAll(yaml: String, file: String, directory: String) throws(ManifestError) -> [ProbeManifest] {
        let reader = ManifestReader(file: file)
        let roots = try reader.documents(yaml)
        guard !roots.isEmpty else {
            throw ManifestError(file: file, line: 1, column: 1, field: nil, "the manifest is empty: it needs at least probe and object")
        }
        var manifests: [ProbeManifest] = []
        for root in roots {
            manifests.append(try manifest(root, reader: reader, file: file, directory: directory))
        }
        return manifests
    }

    private static func manifest(_ root: Node, reader: ManifestReader, file: String, directory: String) throws(ManifestError) -> ProbeManifest {
        let top = try reader.mapping(root, at: "", keys: topKeys, what: "a mapping (probe: ..., object: ...)")

        let probe = try reader.probeName(try required(top, "probe", reader, "the probe's name on every node"))
        let objectNode = try required(top, "object", reader, "the BPF ELF object's path, relative to this file")
        let object = try reader.name(objectNode, at: "object", what: "a file path")
        let signatureFiles = try top["signatures"].map { node throws(ManifestError) in
            try reader.names(node, at: "signatures", what: "signature file paths")
        }
        let programs = try top["programs"].map { node throws(ManifestError) in try reader.programs(node) }
        let globals = try top["globals"].map { node throws(ManifestError) in try reader.globals(node) }
        let maps = try top["maps"].map { node throws(ManifestError) in try reader.mapSettings(node) }
        let metrics = try top["metrics"].map { node throws(ManifestError) in try reader.metricExports(node) }
        let labels = try top["labels"].map { node throws(ManifestError) in try reader.labels(node) }
        let keepMaps = try top["keepMaps"].map { node throws(ManifestError) in try reader.names(node, at: "keepMaps", what: "map names") }
        let attach = try top["attach"].map { node throws(ManifestError) in try reader.attachments(node, programs: programs) } ?? []
        let nodes = try top["nodes"].flatMap { node throws(ManifestError) in
            try reader.nodes(node, line: top.entries["nodes"]?.keyNode.mark?.line ?? 0)
        }
        let rollout = try top["rollout"].map { node throws(ManifestError) in try reader.rollout(node) } ?? RolloutPolicy()

        // Last: the YAML is all right, so what is left to fix is the file.
        let objectPath = object.hasPrefix("/") ? object : (directory.isEmpty ? "." : directory) + "/" + object
        let bytes = try reader.objectBytes(at: objectPath, written: object, node: objectNode)
        var manifest = ProbeManifest(file: file, probe: probe, objectPath: objectPath, objectBytes: bytes, programs: programs, globals: globals,
                                     maps: maps, metrics: metrics, labels: labels, keepMaps: keepMaps, attach: attach, nodes: nodes, rollout: rollout)
        manifest.signatures = try reader.signatures(signatureFiles, node: top["signatures"], objectPath: objectPath,
                                                    digest: manifest.objectId, directory: directory)
        return manifest
    }

    private static func required(_ fields: ManifestReader.Fields, _ key: String, _ reader: ManifestReader,
                                 _ what: String) throws(ManifestError) -> Node {
        if let value = fields[key] { return value }
        if let entry = fields.entries[key] { throw reader.error(entry.keyNode, key, "empty: expected \(what)") }
        throw reader.error(fields.node, key, "missing: \(what)")
    }
}

extension ManifestReader {
    /// The server's rule, checked before any node is asked.
    func probeName(_ node: Node) throws(ManifestError) -> String {
        let name = try text(node, at: "probe", what: "a probe name")
        let allowed = name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed, !name.hasPrefix(".") else {
            throw error(node, "probe", "'\(name)' is not a valid probe name (1-64 of A-Z a-z 0-9 _ - ., not starting with '.')")
        }
        return name
    }

    /// At least one, as the server wants: leaving `programs` out loads all.
    func programs(_ node: Node) throws(ManifestError) -> [String] {
        let programs = try names(node, at: "programs", what: "program names")
        guard !programs.isEmpty else { throw error(node, "programs", "name at least one program, or leave programs out for all") }
        return programs
    }

    func globals(_ node: Node) throws(ManifestError) -> [String: JSONValue] {
        var globals: [String: JSONValue] = [:]
        for entry in try entries(node, at: "globals", what: "a mapping of variable names to values") {
            globals[entry.key] = try json(entry.value, at: join("globals", entry.key))
        }
        return globals
    }

    /// `maps: {NAME: {maxEntries: N, valueSize: N, numaNode: N}}`, or
    /// `NAME: N` for the size alone.
    func mapSettings(_ node: Node) throws(ManifestError) -> [String: MapSettings] {
        var settings: [String: MapSettings] = [:]
        for entry in try entries(node, at: "maps", what: "a mapping of map names to settings ({maxEntries: N})") {
            let path = join("maps", entry.key)
            if case .scalar = entry.value {
                settings[entry.key] = MapSettings(maxEntries: try count(entry.value, at: join(path, "maxEntries")))
                continue
            }
            let fields = try mapping(entry.value, at: path, keys: ProbeManifest.mapSettingKeys,
                                     what: "a size (N) or a mapping {maxEntries: N, valueSize: N, numaNode: N, pinning: probe}")
            let setting = MapSettings(
                maxEntries: try fields["maxEntries"].map { value throws(ManifestError) in try count(value, at: join(path, "maxEntries")) },
                valueSize: try fields["valueSize"].map { value throws(ManifestError) in try count(value, at: join(path, "valueSize")) },
                numaNode: try fields["numaNode"].map { value throws(ManifestError) in try count(value, at: join(path, "numaNode"), least: 0) },
                pinning: try fields["pinning"].map { value throws(ManifestError) in try name(value, at: join(path, "pinning"), what: "a pinning (probe)") })
            guard !setting.isEmpty else { throw error(entry.value, path, "set maxEntries, valueSize, numaNode or pinning, or leave the map out") }
            settings[entry.key] = setting
        }
        return settings
    }

    /// A whole number from `least` to 2^32-1.
    private func count(_ node: Node, at path: String, least: Int = 1) throws(ManifestError) -> UInt32 {
        let number = try integer(node, at: path)
        guard number >= least, let value = UInt32(exactly: number) else {
            throw error(node, path, "\(number) is out of range (\(least) to \(UInt32.max))")
        }
        return value
    }

    func labels(_ node: Node) throws(ManifestError) -> [String: String] {
        var labels: [String: String] = [:]
        for entry in try entries(node, at: "labels", what: "a mapping of label names to values") {
            let path = join("labels", entry.key)
            if entry.key.lowercased().hasPrefix(ProbeManifest.reservedLabelPrefix) {
                throw error(entry.keyNode, path,
                            "label keys starting '\(ProbeManifest.reservedLabelPrefix)' are bpfleet's own (\(ProbeManifest.specLabel) holds the spec hash)")
            }
            guard !Self.isNull(entry.value) else {
                throw error(entry.keyNode, path, "a label needs a value (write '' for an empty one)")
            }
            labels[entry.key] = try text(entry.value, at: path, what: "a label value (a string)")
        }
        return labels
    }

    func attachments(_ node: Node, programs: [String]?) throws(ManifestError) -> [ManifestAttachment] {
        var attachments: [ManifestAttachment] = []
        for (index, entry) in try sequence(node, at: "attach", what: "a list of {program, target}").enumerated() {
            let path = "attach[\(index)]"
            let fields = try mapping(entry, at: path, keys: ProbeManifest.attachKeys, what: "a mapping {program: ..., target: {...}}")
            guard let programNode = fields["program"] else {
                throw error(entry, join(path, "program"), "missing: which of the probe's programs to attach")
            }
            let program = try name(programNode, at: join(path, "program"), what: "a program name")
            if let programs, !programs.contains(program) {
                throw error(programNode, join(path, "program"), "'\(program)' is not among programs (\(programs.joined(separator: ", ")))")
            }
            guard let targetNode = fields["target"] else {
                throw error(entry, join(path, "target"), "missing: where to attach, e.g. {type: tracepoint, category: sched, name: sched_process_exec}")
            }
            attachments.append(ManifestAttachment(program: program, target: try target(targetNode, at: join(path, "target")),
                                                  line: entry.mark?.line ?? 0))
        }
        return attachments
    }

    /// nil when `nodes:` names neither a selector nor names.
    func nodes(_ node: Node, line: Int) throws(ManifestError) -> ManifestNodes? {
        let fields = try mapping(node, at: "nodes", keys: ProbeManifest.nodesKeys, what: "a mapping {selector: ..., names: [...]}")
        let selector = try fields["selector"].map { value throws(ManifestError) in
            try name(value, at: "nodes.selector", what: "a label selector string (role=web,zone!=b)")
        }
        let names = try fields["names"].map { value throws(ManifestError) in try self.names(value, at: "nodes.names", what: "node names") }
        guard selector != nil || names != nil else { return nil }
        return ManifestNodes(selector: selector, names: names, line: line)
    }

    func rollout(_ node: Node) throws(ManifestError) -> RolloutPolicy {
        let fields = try mapping(node, at: "rollout", keys: ProbeManifest.rolloutKeys)
        var policy = RolloutPolicy()
        if let value = fields["canary"] {
            policy.canary = try integer(value, at: "rollout.canary")
            guard policy.canary >= 0 else {
                throw error(value, "rollout.canary", "\(policy.canary) is not a canary size (0 for none, or a number of nodes)")
            }
        }
        if let value = fields["batch"] { policy.batch = try batchSize(value) }
        if let value = fields["maxFailures"] {
            policy.maxFailures = try integer(value, at: "rollout.maxFailures")
            guard policy.maxFailures >= 0 else {
                throw error(value, "rollout.maxFailures", "\(policy.maxFailures) is not a number of failures (0 or more)")
            }
        }
        if let value = fields["pause"] { policy.pause = try pause(value) }
        if let value = fields["onFailure"] {
            let word = try text(value, at: "rollout.onFailure", what: "stop or rollback")
            guard let action = RolloutPolicy.FailureAction(rawValue: word) else {
                let words = RolloutPolicy.FailureAction.allCases.map(\.rawValue)
                let hint = KeySuggestion.closest(to: word, among: words).map { "; did you mean '\($0)'?" } ?? ""
                throw error(value, "rollout.onFailure", "expected stop or rollback, got '\(word)'\(hint)")
            }
            policy.onFailure = action
        }
        if let value = fields["preflight"] { policy.preflight = try flag(value, at: "rollout.preflight") }
        return policy
    }

    /// `3` (nodes) or `25%` (of the selected nodes).
    private func batchSize(_ node: Node) throws(ManifestError) -> RolloutPolicy.BatchSize {
        let path = "rollout.batch"
        let wanted = "a count of at least 1, or 1% to 100%"
        if case .scalar = node, Self.tagName(node) == .int {
            let count = try integer(node, at: path)
            guard count >= 1 else { throw error(node, path, "\(count) is not a batch size (\(wanted))") }
            return .count(count)
        }
        let text = try text(node, at: path, what: "a node count (3) or a percentage of the selected nodes (25%)")
        guard text.hasSuffix("%"), let percent = Int(text.dropLast()) else {
            throw error(node, path, "expected a node count (3) or a percentage of the selected nodes (25%), got \(kind(node))")
        }
        guard (1...100).contains(percent) else { throw error(node, path, "\(text) is not a batch size (\(wanted))") }
        return .percent(percent)
    }

    /// `500ms`, `5s`, `2m`, or `0`.
    private func pause(_ node: Node) throws(ManifestError) -> Duration {
        let path = "rollout.pause"
        let text = try text(node, at: path, what: "a duration (500ms, 5s, 2m)")
        if text == "0" { return .zero }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unitMilliseconds: [Substring: Int64] = ["ms": 1, "s": 1000, "m": 60_000]
        guard !digits.isEmpty, let scale = unitMilliseconds[text.dropFirst(digits.count)] else {
            throw error(node, path, "'\(text)' is not a duration: a whole number and a unit, ms, s or m (500ms, 5s, 2m)")
        }
        let milliseconds = Int64(digits).map { $0.multipliedReportingOverflow(by: scale) }
        guard let milliseconds, !milliseconds.overflow, Duration.milliseconds(milliseconds.partialValue) <= ProbeManifest.longestPause else {
            throw error(node, path, "\(text) is longer than 24h")
        }
        return .milliseconds(milliseconds.partialValue)
    }

    /// The signatures of the manifest's object: the files `signatures`
    /// lists (relative to the manifest), or else OBJECT.sig when there is
    /// one. Each must be of the object's bytes.
    func signatures(_ files: [String]?, node: Node?, objectPath: String, digest: String,
                    directory: String) throws(ManifestError) -> [ObjectSignature] {
        guard let files, let node else {
            do throws(SignatureFile.Failure) {
                return try SignatureFile.signatures(of: objectPath, digest: digest, paths: [])
            } catch {
                throw self.error(node, "signatures", "\(error) (\(objectPath).sig is read when signatures is not given)")
            }
        }
        let items = (try? sequence(node, at: "signatures", what: "a list of signature file paths")) ?? []
        var signatures: [ObjectSignature] = []
        for (index, file) in files.enumerated() {
            let path = file.hasPrefix("/") ? file : (directory.isEmpty ? "." : directory) + "/" + file
            do throws(SignatureFile.Failure) {
                signatures.append(try SignatureFile.read(path, for: digest))
            } catch {
                throw self.error(index < items.count ? items[index] : node, "signatures[\(index)]", error.description)
            }
        }
        return signatures
    }

    /// The object's bytes, once they are known to be a BPF ELF object.
    func objectBytes(at path: String, written: String, node: Node) throws(ManifestError) -> Data {
        let named = written == path ? "'\(path)'" : "'\(written)' (\(path))"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw error(node, "object", "\(named): no such file")
        }
        if isDirectory.boolValue { throw error(node, "object", "\(named) is a directory, not a BPF ELF object") }
        if let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType, type != .typeRegular {
            throw error(node, "object", "\(named) is not a regular file")
        }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.isReadableFile(atPath: path) ? error.localizedDescription : "permission denied"
            throw self.error(node, "object", "cannot read \(named): \(reason)")
        }
        if let problem = BPFObjectHeader.problem(with: bytes) {
            throw error(node, "object", "\(named) is \(problem)")
        }
        return bytes
    }
}

import ArgumentParser
import BpfleetShared
import Foundation

/// `bpfleet probe load FILE|OBJECT_ID --name NAME [--program P]... [--global NAME=VALUE]... [--map-size MAP=N]...
///  [--label K=V]... [--replace [--keep-map MAP]...]`
struct ProbeLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load an object's programs and maps into the kernel as a named probe.",
        discussion: """
            OBJECT is a local BPF ELF file (uploaded to each node first) or the id of an object \
            already on the nodes (sha256:...). A --global VALUE is parsed as JSON when it is JSON, \
            otherwise taken as a string. --map-size sets a map's max_entries before the load, as \
            tools that size their maps at start-up do (a map the object declares with 0 entries \
            must be sized). With --replace, a probe of that name already loaded is \
            replaced without a gap: its links move to the new programs of the same names (same link \
            ids), each --keep-map MAP keeps the old map and its contents, and on any failure the old \
            probe stays as it was.
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: ArgumentHelp("A BPF ELF file, or an object id on the nodes (a unique prefix of it will do).", valueName: "file|object-id"))
    var object: String

    @OptionGroup var signatures: SignatureOptions

    @Option(help: "The probe's name, unique on each node.")
    var name: String

    @Option(name: .customLong("program"), help: "Load only this program; repeat for several (default: all).")
    var programs: [String] = []

    @Option(name: .customLong("global"), help: ArgumentHelp("Set a .rodata/.data/.bss variable.", valueName: "name=value"),
            transform: Assignment.init(parsing:))
    var globals: [Assignment] = []

    @Option(name: .customLong("map-size"),
            help: ArgumentHelp("Set a map's max_entries (bytes for a ring buffer) before the load; repeat for several.",
                               valueName: "map=entries"),
            transform: Assignment.init(parsing:))
    var mapSizes: [Assignment] = []

    @Option(name: .customLong("label"), help: ArgumentHelp("Attach a label to the probe.", valueName: "key=value"),
            transform: Assignment.init(parsing:))
    var labels: [Assignment] = []

    @Flag(help: "Replace the loaded probe of this name without a gap (its links move to the new programs).")
    var replace = false

    @Option(name: .customLong("keep-map"), help: ArgumentHelp("With --replace: keep this map of the old probe, contents and all; repeat for several.", valueName: "map"))
    var keepMaps: [String] = []

    @Option(name: .customLong("metrics"),
            help: ArgumentHelp("Export maps to Prometheus as this YAML or JSON file lists them (a manifest's metrics:, docs/metrics.md).", valueName: "file"))
    var metricsFile: String?

    func validate() throws {
        if !keepMaps.isEmpty, !replace {
            throw ValidationError("--keep-map needs --replace (it names maps of the probe being replaced)")
        }
        var isDirectory: ObjCBool = false
        if ObjectFile.exists(object) || (FileManager.default.fileExists(atPath: object, isDirectory: &isDirectory) && isDirectory.boolValue) {
            try ObjectFile.validate(object)
        } else if !object.hasPrefix("sha256:"), !object.hasPrefix("sha256:"), object.contains("/") || object.hasSuffix(".o") {
            throw ValidationError("no such file '\(object)' (give a BPF ELF file or an object id sha256:...)")
        }
        if !signatures.files.isEmpty, !ObjectFile.exists(object) {
            throw ValidationError("--signature goes with an object file, which is sent with it; '\(object)' is an object id (upload signatures with object upload)")
        }
        _ = try request(objectId: "")
    }

    func run() async throws {
        let upload = ObjectFile.exists(object) ? try ObjectFile(path: object, name: nil, signatures: signatures.files).upload : nil
        let template = try request(objectId: object)
        try await FleetCall(options: options, method: ProbeLoad.method) { connection in
            var request = template
            if let upload {
                // Content-addressed: uploading an object a node already has
                // costs a transfer, not a second copy.
                request.objectId = try await MethodFailure.naming(ObjectUpload.method) {
                    try await connection.call(upload).objectId
                }
            } else {
                request.objectId = try await ObjectIDPrefix.resolve(request.objectId, on: connection)
            }
            return try await connection.callRaw(request)
        }
        .run(showing: ProbeDescription.self) { results, printer in
            for result in results { ProbeView.detail(result.value, node: result.node, printer) }
        }
    }

    func request(objectId: String) throws -> ProbeLoad {
        ProbeLoad(
            name: name,
            objectId: objectId,
            programs: programs.isEmpty ? nil : programs,
            globals: globals.isEmpty ? nil : try Assignment.dictionary(globals, option: "--global", JSONArgument.value),
            labels: labels.isEmpty ? nil : try Assignment.dictionary(labels, option: "--label") { $0 },
            replace: replace ? true : nil,
            keepMaps: keepMaps.isEmpty ? nil : keepMaps,
            maps: mapSizes.isEmpty ? nil : try Assignment.dictionary(mapSizes, option: "--map-size", Self.mapSize),
            metrics: try metricsFile.map(Self.metricExports))
    }

    /// `--metrics FILE`: the exports it lists.
    static func metricExports(_ path: String) throws -> [MetricExport] {
        switch TextFile.read(path) {
        case .success(let text):
            do {
                return try ProbeManifest.metricExports(yaml: text, file: path)
            } catch {
                throw ValidationError("--metrics: \(error)")
            }
        case .failure(let failure):
            throw ValidationError("--metrics: cannot read \(path): \(failure.text)")
        }
    }

    /// `--map-size NAME=N`: N from 1 to 2^32-1 (0x-prefixed hex too).
    static func mapSize(_ text: String) throws -> MapSettings {
        let entries = text.hasPrefix("0x") ? UInt32(text.dropFirst(2), radix: 16) : UInt32(text)
        guard let entries, entries > 0 else {
            throw ValidationError("--map-size: '\(text)' is not a size (a whole number from 1 to \(UInt32.max))")
        }
        return MapSettings(maxEntries: entries)
    }
}

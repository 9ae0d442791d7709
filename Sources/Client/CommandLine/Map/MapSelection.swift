import ArgumentParser
import BpfleetShared

/// The PROBE MAP arguments naming one map, and how its keys and values are
/// written.
struct MapSelection: ParsableArguments {
    @Argument(help: "The probe's name.", completion: LiveCompletion.probes)
    var probe: String

    @Argument(help: "The map's name in the probe.", completion: LiveCompletion.maps)
    var map: String

    @Option(help: "Keys and values decoded through BTF (typed) or as raw bytes (hex).")
    var format: Format?

    enum Format: String, CaseIterable, ExpressibleByArgument {
        case typed, hex

        var wire: ValueFormat {
            switch self {
            case .typed: .typed
            case .hex: .hex
            }
        }
    }

    var reference: MapRef { .named(probe: probe, name: map) }
    var valueFormat: ValueFormat? { format?.wire }

    /// A KEY or VALUE argument as the request carries it: with `--format
    /// hex` its bytes (HexBytes) as one hex string, else JSON when it
    /// parses as JSON and the text itself otherwise (JSONArgument).
    func wireValue(_ text: String, argument: String) throws -> JSONValue {
        guard format == .hex else { return JSONArgument.value(text) }
        return .string(HexBytes.wire(try HexBytes.parse(text, argument: argument)))
    }

    /// A key or value the node answered with, for the table: bytes spaced
    /// as bpftool prints them in hex format, else the node's JSON.
    func shown(_ json: String) -> String {
        format == .hex ? HexBytes.display(json) : json
    }
}

/// The map of a whole-map read (`map dump`, `map watch`): PROBE MAP, or
/// `--id N` for any map by its kernel id, also one bpfleet does not own
/// where the node allows it (docs/security.md).
struct WholeMapSelection: ParsableArguments {
    @Argument(help: "The probe's name (not with --id).", completion: LiveCompletion.probes)
    var probe: String?

    @Argument(help: "The map's name in the probe (not with --id).", completion: LiveCompletion.maps)
    var map: String?

    @Option(name: .customLong("id"), help: "The map's kernel id (bpfleet node maps lists every map's), or the start of exactly one map's id when no map has that id, instead of PROBE MAP.")
    var id: UInt32?

    @Option(help: "Keys and values decoded through BTF (typed) or as raw bytes (hex).")
    var format: MapSelection.Format?

    func validate() throws {
        switch (probe, map, id) {
        case (.some, .some, nil), (nil, nil, .some): break
        case (_, _, .some): throw ValidationError("give PROBE MAP or --id, not both")
        default: throw ValidationError("give PROBE MAP, or --id N")
        }
        if id == 0 { throw ValidationError("--id: a map id is 1 to 4294967295") }
    }

    var reference: MapRef {
        if let id { return .id(id) }
        return .named(probe: probe ?? "", name: map ?? "")
    }

    var valueFormat: ValueFormat? { format?.wire }

    /// As `MapSelection.shown`.
    func shown(_ json: String) -> String {
        format == .hex ? HexBytes.display(json) : json
    }
}

import ArgumentParser
import BpfleetShared

/// The PROBE MAP arguments naming one map, and how its keys and values are
/// written.
struct MapSelection: ParsableArguments {
    @Argument(help: "The probe's name.")
    var probe: String

    @Argument(help: "The map's name in the probe.")
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
}

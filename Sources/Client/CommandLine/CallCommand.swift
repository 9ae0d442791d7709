import ArgumentParser
import BpfleetShared

/// `bpfleet call METHOD [PARAMS_JSON]`: any method, for scripts and for
/// methods this command line has no words for yet.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call any JSON-RPC method and print its result as the node sent it.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The method, e.g. node.info.")
    var method: String

    @Argument(help: ArgumentHelp("The params: a JSON object or array.", valueName: "params-json"))
    var params: String?

    func validate() throws {
        _ = try parsedParams()
    }

    func run() async throws {
        let method = self.method
        let params = try parsedParams()
        try await FleetCall(options: options, method: method) { try await $0.callRaw(method: method, params: params) }
            .run(decode: { result, _ in result }, present: { results, printer in
                for result in results {
                    if printer.showsNode { printer.stream.write("\(result.node)  ") }
                    printer.stream.write(result.value)
                    printer.stream.write("\n")
                }
            })
    }

    private func parsedParams() throws -> JSONValue? {
        guard let params else { return nil }
        switch JSONArgument.value(params) {
        case let value where value.isStructured:
            return value
        default:
            throw ValidationError("PARAMS_JSON must be a JSON object or array, e.g. '{\"probe\":\"exec\"}'")
        }
    }
}

extension JSONValue {
    fileprivate var isStructured: Bool {
        switch self {
        case .object, .array: true
        default: false
        }
    }
}

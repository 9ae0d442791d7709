/// A config or inventory file that cannot be used, with the file and the
/// line to fix.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String
    /// Which kind of file: "config" or "inventory".
    public var document: String

    public init(file: String, line: Int?, _ message: String, document: String = "config") {
        self.file = file
        self.line = line
        self.message = message
        self.document = document
    }

    /// "config /home/alice/.config/bpfleet/config.yaml line 7: unknown key 'cafile' ..."
    public var description: String {
        "\(document) \(file)\(line.map { " line \($0)" } ?? ""): \(message)"
    }
}

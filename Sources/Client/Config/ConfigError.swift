/// A config file that cannot be used, with the file and the line to fix.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// "config /home/alice/.config/bpfleet/config.yaml line 7: unknown key 'cafile' ..."
    public var description: String {
        "config \(file)\(line.map { " line \($0)" } ?? ""): \(message)"
    }
}

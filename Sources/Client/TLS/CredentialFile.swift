/// A file the client reads for TLS, with where it was named, so that an
/// error says which setting to fix: `--cert`, or a line of the config file.
public struct CredentialFile: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    /// "--ca", "config /home/alice/.config/bpfleet/config.yaml line 4"
    public var origin: String

    public init(path: String, origin: String) {
        self.path = path
        self.origin = origin
    }

    public var description: String { "\(path) (\(origin))" }
}

/// A TLS file that cannot be used: unreadable, not PEM, or a key that is not
/// the certificate's. A usage error: no node is asked.
public struct CredentialError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

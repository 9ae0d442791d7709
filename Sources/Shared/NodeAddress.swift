/// Where a node listens: `unix:/run/bpfleet/bpfleetd.sock` or `tcp://host:7447`.
public enum NodeAddress: Sendable, Hashable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    public static let defaultUnixPath = "/run/bpfleet/bpfleetd.sock"
    public static let defaultPort = 7447

    public init(parsing text: String) throws {
        if text.hasPrefix("unix:") {
            var path = String(text.dropFirst("unix:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw AddressError(text: text, reason: "empty socket path") }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp://") {
            let rest = String(text.dropFirst("tcp://".count))
            let host: String
            let portText: String?
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else {
                    throw AddressError(text: text, reason: "unterminated IPv6 address")
                }
                host = String(rest[rest.index(after: rest.startIndex)..<close])
                let after = rest[rest.index(after: close)...]
                portText = after.hasPrefix(":") ? String(after.dropFirst()) : (after.isEmpty ? nil : String(after))
            } else if let colon = rest.lastIndex(of: ":") {
                host = String(rest[..<colon])
                guard !host.contains(":") else {
                    throw AddressError(text: text, reason: "an IPv6 address goes in brackets: tcp://[::1]:\(Self.defaultPort)")
                }
                portText = String(rest[rest.index(after: colon)...])
            } else {
                host = rest
                portText = nil
            }
            guard !host.isEmpty else { throw AddressError(text: text, reason: "empty host") }
            var port = Self.defaultPort
            if let portText {
                guard let value = Int(portText), (1...65535).contains(value) else {
                    throw AddressError(text: text, reason: "port must be 1-65535")
                }
                port = value
            }
            self = .tcp(host: host, port: port)
        } else if text.hasPrefix("/") {
            self = .unix(path: text)
        } else {
            throw AddressError(text: text, reason: "expected unix:/PATH or tcp://HOST[:PORT]")
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }
}

public struct AddressError: Error, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "invalid address '\(text)': \(reason)" }
}

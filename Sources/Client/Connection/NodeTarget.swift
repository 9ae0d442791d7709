import BpfleetShared

/// A node to talk to: where it listens, the name a person gave it in the
/// config file (if any), and how a tcp:// connection to it is secured.
public struct NodeTarget: Sendable, CustomStringConvertible {
    public var address: NodeAddress
    /// The node's name in the config file; messages use it when present.
    public var name: String?
    /// TLS or explicit plaintext for tcp:// addresses; ignored for unix:.
    public var security: TCPSecurity?

    public init(address: NodeAddress, name: String? = nil, security: TCPSecurity? = nil) {
        self.address = address
        self.name = name
        self.security = security
    }

    /// The node as people know it: its config name, else its address.
    public var description: String { name ?? address.description }
}

extension NodeAddress {
    /// A loopback address: the only place plain TCP may go.
    public var isLoopback: Bool {
        guard case .tcp(let host, _) = self else { return false }
        if host == "localhost" || host == "::1" { return true }
        guard let bytes = IPAddressText.bytes(host) else { return false }
        if bytes.count == 4 { return bytes[0] == 127 }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        // ::ffff:127.x.x.x, an IPv4 loopback address written as IPv6
        return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
    }
}

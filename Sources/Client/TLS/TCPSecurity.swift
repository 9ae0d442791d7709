/// How a tcp:// connection is made. There is no default: TLS needs
/// credentials, and plaintext must be asked for (and reaches loopback only).
public enum TCPSecurity: Sendable {
    /// TLS 1.3; the node's certificate must chain to the credentials' CA and
    /// carry `serverName` (default: the address's host) as a SAN.
    case tls(TLSCredentials, serverName: String? = nil)
    /// Plain TCP to a loopback listener that bpfleetd opened with
    /// --insecure-plaintext.
    case insecurePlaintext
}

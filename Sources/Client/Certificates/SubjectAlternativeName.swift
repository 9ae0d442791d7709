import X509

/// A name a certificate is valid for, as given on the command line: an IP
/// address literal becomes an IP SAN, anything else a DNS SAN.
public enum SubjectAlternativeName: Sendable, Hashable, CustomStringConvertible {
    case dns(String)
    case ip(address: String, bytes: [UInt8])

    public init(parsing text: String) throws(CertificateFailure) {
        if let bytes = IPAddressText.bytes(text) {
            self = .ip(address: IPAddressText.text(bytes), bytes: bytes)
            return
        }
        guard Self.isDNSName(text) else {
            throw CertificateFailure("'\(text)' is neither an IP address nor a DNS name (letters, digits, '-' and '.', optionally starting with '*.')")
        }
        self = .dns(text.lowercased())
    }

    /// The name as swift-certificates writes it into the extension.
    var generalName: GeneralName {
        switch self {
        case .dns(let name): .dnsName(name)
        case .ip(_, let bytes): .ipAddress(.init(contentBytes: bytes[...]))
        }
    }

    /// Reads a SAN back; `nil` for kinds bpfleet does not make (e-mail, URI).
    init?(_ name: GeneralName) {
        switch name {
        case .dnsName(let dns): self = .dns(dns)
        case .ipAddress(let octets):
            let bytes = Array(octets.bytes)
            guard bytes.count == 4 || bytes.count == 16 else { return nil }
            self = .ip(address: IPAddressText.text(bytes), bytes: bytes)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .dns(let name): "DNS:\(name)"
        case .ip(let address, _): "IP:\(address)"
        }
    }

    /// The bare name, as a person would type it to reach the node.
    public var name: String {
        switch self {
        case .dns(let name): name
        case .ip(let address, _): address
        }
    }

    static func isDNSName(_ text: String) -> Bool {
        var labels = text.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" { labels.removeFirst() }
        guard !labels.isEmpty, text.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        }
    }
}

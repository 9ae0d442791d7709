/// Why a certificate could not be made or read: one line for a person.
public struct CertificateFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

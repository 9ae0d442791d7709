import Foundation

/// When a certificate is valid: `days` long, starting now, or `backdateDays`
/// ago. notBefore is set five minutes earlier still, so a node whose clock
/// runs a little behind does not refuse a certificate made a moment ago.
public struct CertificateValidity: Sendable, Hashable {
    public var notBefore: Date
    public var notAfter: Date

    public static let clockSkewAllowance: TimeInterval = 5 * 60

    public init(notBefore: Date, notAfter: Date) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// `--backdate-days 10 --days 5` gives a certificate that expired five
    /// days ago: what tests need to see expiry refused.
    public init(days: Int, backdateDays: Int = 0, now: Date = Date()) {
        // X.509 times have whole seconds; so does what is made here, so a
        // certificate read back says exactly what was asked.
        let start = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)) - Double(backdateDays) * 86_400
        self.notBefore = start - Self.clockSkewAllowance
        self.notAfter = start + Double(days) * 86_400
    }
}

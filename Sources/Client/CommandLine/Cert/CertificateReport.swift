import X509

/// Says what was made, for the operator who writes the roles file and
/// the config: the subject as a node matches it (RFC 4514, `CN=alice`), the
/// SANs, the issuer, the dates and the files.
enum CertificateReport {
    static func lines(_ issued: IssuedCertificate, purpose: CertificatePurpose, files: CertificateFiles) -> [(String, String)] {
        let certificate = issued.certificate
        let names = issued.alternativeNames.map(\.description)
        var lines: [(String, String)] = [
            ("certificate", files.certificatePath),
            ("key", "\(files.keyPath) (mode 0600)"),
            ("subject", certificate.subject.description),
            ("SANs", names.isEmpty ? "-" : names.joined(separator: ", ")),
            ("issuer", certificate.issuer.description),
            ("valid", "\(DisplayText.date(certificate.notValidBefore)) to \(DisplayText.date(certificate.notValidAfter))"),
        ]
        switch purpose {
        case .authority: lines.append(("usage", "CA: signs node and client certificates"))
        case .node: lines.append(("usage", "serverAuth (a bpfleetd listener: --tls-cert, --tls-key)"))
        case .client: lines.append(("usage", "clientAuth (bpfleet --cert, --key; a roles file names it by its subject or a SAN)"))
        }
        return lines
    }

    static func print(_ issued: IssuedCertificate, purpose: CertificatePurpose, files: CertificateFiles) {
        let output = StandardStream.output()
        let pairs = lines(issued, purpose: purpose, files: files)
        let width = pairs.map(\.0.count).max() ?? 0
        for (key, value) in pairs {
            output.write(key + String(repeating: " ", count: width - key.count + 2) + value + "\n")
        }
        output.flush()
    }
}

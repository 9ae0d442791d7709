import BpfleetShared
import Foundation

/// The server's audit log, parsed line by line.
func auditLines(_ path: String) throws -> [JSONValue] {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    return try text.split(separator: "\n").map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
}

/// A temporary directory for files a test hands the server (roles, certs).
func temporaryDirectory(_ tag: String) throws -> String {
    let path = NSTemporaryDirectory() + "bpfleet-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    chmod(path, 0o755)
    return path
}

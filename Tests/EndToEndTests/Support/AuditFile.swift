import BpfleetShared
import Foundation
import TestSupport

/// The server's audit log, parsed line by line.
func auditLines(_ path: String) throws -> [JSONValue] {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    return try text.split(separator: "\n").map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
}

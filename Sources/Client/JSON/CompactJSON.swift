import BpfleetShared
import Foundation

/// A JSON value as one short line of text, for a table cell.
enum CompactJSON {
    static func text(_ value: JSONValue) -> String {
        guard let data = try? JSONEncoder.wire().encode(value) else { return "?" }
        return String(decoding: data, as: UTF8.self)
    }
}

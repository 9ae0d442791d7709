import BpfleetShared
import Foundation

/// Decodes JSON text the way both sides read the wire.
func decodeWire<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder.wire().decode(T.self, from: Data(json.utf8))
}

import BpfleetShared
import Foundation
import NIOCore

/// Turns the raw `result` bytes of a response into a method's Result type.
enum ResultDecoding {
    static func decode<Value: Decodable>(_ type: Value.Type, from result: ByteBuffer, method: String,
                                         address: NodeAddress) throws -> Value {
        // A method answering "nothing but success" may send {} or null.
        if let empty = EmptyResult() as? Value { return empty }
        do {
            return try JSONDecoder.wire().decode(type, from: result.withUnsafeReadableBytes { Data($0) })
        } catch let error as DecodingError {
            throw ClientError.unexpectedResult(address, method: method,
                                               detail: ResponseError.describing(error, root: "result").message)
        }
    }
}

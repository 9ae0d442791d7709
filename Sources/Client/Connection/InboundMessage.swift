import BpfleetShared
import Foundation
import NIOCore

/// What a response carried: the raw `result` value, or the server's error.
enum CallReply: Sendable {
    case result(ByteBuffer)
    case error(ResponseError)
}

/// One line from the server, classified by its top-level members only:
/// the `result` of a response stays a slice of the line, never a tree.
enum InboundMessage {
    case response(id: Int64, CallReply)
    /// An error answering a request the server could not identify (`id`
    /// null), e.g. one over its size limit.
    case unattributedError(ResponseError)
    case notification(ServerNotification)
    /// A request from the server (the protocol defines none) or a response
    /// to an id this client never uses.
    case ignored

    struct Malformed: Error {
        var detail: String
    }

    static func parse(_ line: ByteBuffer) throws(Malformed) -> InboundMessage {
        let members: [(name: String, range: Range<Int>)]
        do {
            members = try line.withUnsafeReadableBytes { try JSONScanner.members(of: $0) }
        } catch {
            throw Malformed(detail: "\(error)")
        }
        func value(_ name: String) -> ByteBuffer? {
            guard let range = members.first(where: { $0.name == name })?.range else { return nil }
            return line.getSlice(at: line.readerIndex + range.lowerBound, length: range.count)
        }

        let id = value("id")
        if let method = value("method") {
            guard id == nil else { return .ignored }
            guard let name = try? JSONDecoder().decode(String.self, from: Data(method.readableBytesView)) else {
                throw Malformed(detail: "notification \"method\" is not a string")
            }
            return .notification(ServerNotification(method: name, params: value("params")))
        }

        let reply: CallReply
        if let error = value("error") {
            do {
                reply = .error(try JSONDecoder.wire().decode(ResponseError.self, from: Data(error.readableBytesView)))
            } catch let failure as DecodingError {
                throw Malformed(detail: ResponseError.describing(failure, root: "error").message)
            } catch {
                throw Malformed(detail: "error: \(error)")
            }
        } else if let result = value("result") {
            reply = .result(result)
        } else {
            throw Malformed(detail: "a response needs \"result\" or \"error\"")
        }

        guard let id else { throw Malformed(detail: "a response needs \"id\"") }
        let idText = String(decoding: id.readableBytesView, as: UTF8.self)
        if idText == "null" {
            if case .error(let error) = reply { return .unattributedError(error) }
            throw Malformed(detail: "a result with a null \"id\"")
        }
        guard let number = Int64(idText) else { return .ignored }
        return .response(id: number, reply)
    }
}

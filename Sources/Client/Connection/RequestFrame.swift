import Foundation
import NIOCore

/// One request on the wire: a JSON-RPC 2.0 request object and its `\n`.
/// Params are already JSON text; they are copied once, into the frame, so a
/// large upload is not re-encoded on its way out.
enum RequestFrame {
    /// A request; `id` nil makes it a notification, which the server runs
    /// and never answers.
    static func encode(id: Int64?, method: String, params: Data?, allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: 64 + method.utf8.count + (params?.count ?? 0))
        frame.writeStaticString(#"{"jsonrpc":"2.0","#)
        if let id {
            frame.writeStaticString(#""id":"#)
            frame.writeString(String(id))
            frame.writeStaticString(",")
        }
        frame.writeStaticString(#""method":"#)
        frame.writeJSONString(method)
        if let params {
            frame.writeStaticString(#","params":"#)
            frame.writeBytes(params)
        }
        frame.writeStaticString("}\n")
        return frame
    }
}

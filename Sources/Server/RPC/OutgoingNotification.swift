import BpfleetShared
import Foundation
import NIOCore

/// A notification line written from its Shared type, by the wire encoder:
/// the shape the contract gives, keys in the wire's order.
enum OutgoingNotification {
    static func line<N: RPCNotification>(_ notification: N) -> ByteBuffer {
        var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: 128))
        out.raw("{\"jsonrpc\":\"2.0\",\"method\":")
        out.string(N.method)
        out.raw(",\"params\":")
        // Shared types of strings and integers always encode.
        out.bytes((try? JSONEncoder.wire().encode(notification)) ?? Data("{}".utf8))
        out.raw("}\n")
        return out.buffer
    }
}

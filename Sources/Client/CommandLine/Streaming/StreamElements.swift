import BpfleetShared
import NIOCore

/// The elements of a streaming command's `-o ndjson` (one per line, each
/// flushed as it comes) or `-o json` (the same elements in one array,
/// written as they come and closed when the command ends).
final class StreamElements {
    let stream: StandardStream
    private let array: Bool
    private var written = 0

    init(stream: StandardStream, array: Bool) {
        self.stream = stream
        self.array = array
    }

    func begin() {
        if array { stream.write("[") }
    }

    /// Writes one element: `body` writes its text, without a newline.
    func element(_ body: (StandardStream) -> Void) {
        if array { stream.write(written == 0 ? "\n" : ",\n") }
        body(stream)
        if !array { stream.write("\n") }
        written += 1
    }

    /// A node that could not be subscribed or lost its connection: the
    /// failure element every command writes.
    func failure(node: NodeTarget, error: any Error) {
        element { stream in
            for part in Envelope.parts(node: node.address, name: node.name, result: .failure(error)) {
                stream.write(part)
            }
        }
    }

    func end() {
        if array { stream.write(written == 0 ? "]\n" : "\n]\n") }
        stream.flush()
    }
}

/// The opening of every element about one node, written once:
/// `{"node":NODE,"address":ADDRESS` (NODE: its config name, else its address).
struct NodeTag {
    let opening: ByteBuffer

    init(_ node: NodeTarget) {
        var opening = ByteBuffer()
        opening.writeStaticString(#"{"node":"#)
        opening.writeJSONString(node.description)
        opening.writeStaticString(#","address":"#)
        opening.writeJSONString(node.address.description)
        self.opening = opening
    }
}

/// The elements of `map watch` and `events tail`, byte for byte.
enum StreamLine {
    /// `{"node":NODE,"address":ADDR,"notification":{"method":M,"params":PARAMS}}` with
    /// the params as the node sent them.
    static func notification(_ notification: SubscriptionNotification, tag: NodeTag, into stream: StandardStream) {
        stream.write(tag.opening)
        var middle = ByteBuffer()
        middle.writeStaticString(#","notification":{"method":"#)
        middle.writeJSONString(notification.method)
        middle.writeStaticString(#","params":"#)
        stream.write(middle)
        stream.write(notification.params)
        stream.write("}}")
    }

    /// `{"node":NODE,"address":ADDR,"record":RECORD}`
    static func record(_ record: ByteBuffer, tag: NodeTag, into stream: StandardStream) {
        stream.write(tag.opening)
        stream.write(#","record":"#)
        stream.write(record)
        stream.write("}")
    }

    /// `{"node":NODE,"address":ADDR,"lost":N}`
    static func lost(_ count: Int, tag: NodeTag, into stream: StandardStream) {
        stream.write(tag.opening)
        stream.write(#","lost":\#(count)}"#)
    }

    /// `{"node":NODE,"address":ADDR,"end":REASON}`
    static func end(_ reason: String, tag: NodeTag, into stream: StandardStream) {
        stream.write(tag.opening)
        var rest = ByteBuffer()
        rest.writeStaticString(#","end":"#)
        rest.writeJSONString(reason)
        rest.writeStaticString("}")
        stream.write(rest)
    }
}

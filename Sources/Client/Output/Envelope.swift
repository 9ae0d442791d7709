import BpfleetShared
import Foundation
import NIOCore

/// One node's element of `-o json` / `-o ndjson` output:
/// `{"node":NODE,"address":ADDRESS,"ok":true,"result":RESULT}` (NODE is the
/// node's config name, else its address, as in every command family) with
/// the result's bytes as the node sent them, or
/// `{"node":NODE,"address":ADDRESS,"ok":false,"error":ERROR}` where
/// ERROR is the server's JSON-RPC error object (`code`, `message`, `data`)
/// or, when the client failed before the server could answer,
/// `{"kind":KIND,"message":TEXT}`.
enum Envelope {
    /// The element as pieces to write in order; a result is passed through as
    /// a slice of the response, never copied or parsed.
    static func parts(node: NodeAddress, name: String? = nil, result: Result<ByteBuffer, any Error>) -> [ByteBuffer] {
        var head = ByteBuffer()
        head.writeStaticString(#"{"node":"#)
        head.writeJSONString(name ?? node.description)
        head.writeStaticString(#","address":"#)
        head.writeJSONString(node.description)
        switch result {
        case .success(let bytes):
            head.writeStaticString(#","ok":true,"result":"#)
            return [head, bytes, ByteBuffer(staticString: "}")]
        case .failure(let error):
            head.writeStaticString(#","ok":false,"error":"#)
            writeError(error, into: &head)
            head.writeStaticString("}")
            return [head]
        }
    }

    static func writeError(_ error: any Error, into buffer: inout ByteBuffer) {
        let response: ResponseError?
        switch error {
        case let failure as MethodFailure: response = failure.error
        case let error as ResponseError: response = error
        default: response = nil
        }
        if let response {
            // Written by hand so the members come in the specification's
            // order; `data` with sorted keys, so equal errors print equally.
            buffer.writeStaticString(#"{"code":"#)
            buffer.writeString(String(response.code.rawValue))
            buffer.writeStaticString(#","message":"#)
            buffer.writeJSONString(response.message)
            if let data = response.data, let encoded = try? dataEncoder.encode(data) {
                buffer.writeStaticString(#","data":"#)
                buffer.writeBytes(encoded)
            }
            buffer.writeStaticString("}")
            return
        }
        let kind = (error as? ClientError)?.kind ?? "client"
        buffer.writeStaticString(#"{"kind":"#)
        buffer.writeJSONString(kind)
        buffer.writeStaticString(#","message":"#)
        buffer.writeJSONString((error as? ClientError)?.description ?? FailureText.line(error))
        buffer.writeStaticString("}")
    }

    private static var dataEncoder: JSONEncoder {
        let encoder = JSONEncoder.wire()
        encoder.outputFormatting.insert(.sortedKeys)
        return encoder
    }
}

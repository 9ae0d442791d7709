import BpfleetShared
import Foundation
import NIOCore

extension IterRead: ServedMethod {
    /// The most bytes one call reads (`limit`'s ceiling) and its default.
    static let largestLimit = 64 << 20
    static let defaultLimit = 1 << 20

    func serve(_ context: CallContext) async throws -> Reply {
        let limit = self.limit ?? Self.defaultLimit
        guard limit >= 1, limit <= Self.largestLimit else {
            throw ResponseError.invalidParams("limit: 1 to \(Self.largestLimit) bytes", field: "limit")
        }
        let probe = try await context.registry.probe(named: self.probe)
        let program = try probe.program(named: self.program)
        let walked = try await map.asyncMap { ref throws(ResponseError) in try await context.registry.map(ref) }
        var type: BTFType?
        if let recordType {
            guard let found = probe.btf?.reader.type(named: recordType) else {
                throw ResponseError.invalidParams("recordType: the object has no BTF type '\(recordType)'", field: "recordType")
            }
            guard found.size > 0 else {
                throw ResponseError.invalidParams("recordType: '\(recordType)' has no size", field: "recordType")
            }
            type = found
        }
        let run = IteratorRun(program: program.attachable, mapFD: walked?.map.io.fd, limit: limit)
        let (bytes, truncated) = try await context.threadPool.runIfActive {
            try kernelCall { () throws(KernelError) in try run.read() }
        }
        // The descriptors stay open until the run is over.
        withExtendedLifetime((probe, walked?.probe)) {}
        return .value(RawJSON(bytes: Self.answer(bytes, truncated: truncated, as: type)))
    }

    /// `{"output":…,"encoding":…,"bytes":N,"truncated":B}`, or with a record
    /// type `{"records":[…],"bytes":N,"truncated":B}` (a last partial record
    /// is left out: the limit cut it).
    static func answer(_ bytes: [UInt8], truncated: Bool, as type: BTFType?) -> ByteBuffer {
        var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: bytes.count + 64))
        bytes.withUnsafeBytes { raw in
            if let type {
                out.raw("{\"records\":[")
                var offset = 0
                while offset + type.size <= raw.count {
                    if offset > 0 { out.byte(UInt8(ascii: ",")) }
                    ValueCodec.write(type, UnsafeRawBufferPointer(rebasing: raw[offset..<offset + type.size]), to: &out)
                    offset += type.size
                }
                out.raw("]")
            } else if let text = String(validating: bytes, as: UTF8.self) {
                out.raw("{\"output\":")
                out.string(text)
                out.raw(",\"encoding\":\"text\"")
            } else {
                out.raw("{\"output\":")
                out.string(Data(bytes).base64EncodedString())
                out.raw(",\"encoding\":\"base64\"")
            }
        }
        out.raw(",\"bytes\":")
        out.int(Int64(bytes.count))
        out.raw(",\"truncated\":")
        out.raw(truncated ? "true" : "false")
        out.raw("}")
        return out.buffer
    }
}

extension Optional {
    /// `map` with an async, throwing transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws(ResponseError) -> T) async throws(ResponseError) -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

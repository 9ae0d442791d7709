import BpfleetShared
import Foundation
import NIOCore

extension IterRead: ServedMethod {
    /// The most bytes one call reads (`limit`'s ceiling) and its default.
    static let largestLimit = 64 << 20
    static let defaultLimit = 1 << 20
    /// Bytes read and written at a time: what the server holds of a run.
    static let chunk = 64 << 10

    func serve(_ context: CallContext) async throws -> Reply {
        let limit = self.limit ?? Self.defaultLimit
        guard limit >= 1, limit <= Self.largestLimit else {
            throw ResponseError.invalidParams("limit: 1 to \(Self.largestLimit) bytes", field: "limit")
        }
        let probe = try await context.registry.probe(named: self.probe)
        let program = try probe.program(named: self.program)
        let walked: (probe: LoadedProbe, map: ProbeMap)? = if let map { try await context.registry.map(map) } else { nil }
        var type: BTFType?
        if let recordType {
            guard let found = probe.btf?.reader.type(named: recordType) else {
                throw ResponseError.invalidParams("recordType: the object has no BTF type '\(recordType)'\(RecordTypeNames.hint(probe.btf?.reader))",
                                                  field: "recordType")
            }
            guard found.size > 0 else {
                throw ResponseError.invalidParams("recordType: '\(recordType)' has no size", field: "recordType")
            }
            type = found
        }
        let attachable = program.attachable
        let mapFD = walked?.map.io.fd
        let pool = context.threadPool
        // The link and the iterator first: a refusal is the call's error.
        let run = try await pool.runIfActive {
            try kernelCall { () throws(KernelError) in try IteratorRun(program: attachable, mapFD: mapFD) }
        }
        let recordType = type
        return .stream { sink in
            var output = IteratorOutput(recordType: recordType)
            var total = 0
            var truncated = false
            while true {
                let want = min(Self.chunk, limit - total)
                let bytes = try await pool.runIfActive {
                    // At the limit, one byte more says whether there was more.
                    try kernelCall { () throws(KernelError) in try run.read(upTo: want > 0 ? want : 1) }
                }
                if bytes.isEmpty { break }
                if want == 0 {
                    truncated = true
                    break
                }
                total += bytes.count
                try await sink.write(output.append(bytes))
            }
            try await sink.write(output.finish(bytes: total, truncated: truncated))
            // The descriptors stay open until the run is over.
            withExtendedLifetime((probe, walked?.probe, run)) {}
        }
    }
}

/// `iter.read`'s answer, written as the iterator's output arrives:
/// `{"output":…,"encoding":"text"|"base64",…}` or `{"records":[…],…}`,
/// then `"bytes"` and `"truncated"` (and `"lossy"` when text held bytes
/// that are not UTF-8). The first chunk decides text or base64; a UTF-8
/// sequence, a base64 group or a record cut by a chunk's end waits for the
/// next one.
struct IteratorOutput {
    let recordType: BTFType?
    private enum Kind { case undecided, text, base64, records }
    private var kind: Kind
    private var carry: [UInt8] = []
    private var records = 0
    private var startedRecords = false
    private var lossy = false

    init(recordType: BTFType?) {
        self.recordType = recordType
        kind = recordType == nil ? .undecided : .records
    }

    mutating func append(_ chunk: [UInt8]) -> ByteBuffer {
        var out = JSONWriter(buffer: ByteBufferAllocator().buffer(capacity: chunk.count + chunk.count / 3 + 32))
        let bytes = carry + chunk
        carry = []
        if kind == .undecided {
            let (whole, rest) = Self.splitUTF8(bytes)
            // Only the start of one character so far: wait for more.
            guard !whole.isEmpty || rest.isEmpty else {
                carry = bytes
                return out.buffer
            }
            kind = String(validating: whole, as: UTF8.self) != nil ? .text : .base64
            out.raw("{\"output\":\"")
        } else if kind == .records, !startedRecords {
            startedRecords = true
            out.raw("{\"records\":[")
        }
        switch kind {
        case .text, .undecided:
            let (whole, rest) = Self.splitUTF8(bytes)
            carry = Array(rest)
            if String(validating: whole, as: UTF8.self) == nil { lossy = true }
            out.stringBody(String(decoding: whole, as: UTF8.self))
        case .base64:
            let whole = bytes.count - bytes.count % 3
            carry = Array(bytes[whole...])
            out.stringBody(Data(bytes[..<whole]).base64EncodedString())
        case .records:
            guard let recordType else { break }
            var offset = 0
            bytes.withUnsafeBytes { raw in
                while offset + recordType.size <= raw.count {
                    if records > 0 { out.byte(UInt8(ascii: ",")) }
                    ValueCodec.write(recordType, UnsafeRawBufferPointer(rebasing: raw[offset..<offset + recordType.size]), to: &out)
                    offset += recordType.size
                    records += 1
                }
            }
            carry = Array(bytes[offset...])
        }
        return out.buffer
    }

    mutating func finish(bytes: Int, truncated: Bool) -> ByteBuffer {
        var out = JSONWriter(buffer: ByteBuffer())
        switch kind {
        case .undecided where carry.isEmpty:
            out.raw("{\"output\":\"\",\"encoding\":\"text\"")
        case .undecided:
            // A few bytes that never became a character: base64.
            out.raw("{\"output\":\"")
            out.stringBody(Data(carry).base64EncodedString())
            out.raw("\",\"encoding\":\"base64\"")
        case .text:
            // An incomplete last sequence: cut by the limit, or never whole.
            if !carry.isEmpty {
                lossy = true
                out.stringBody(String(decoding: carry, as: UTF8.self))
            }
            out.raw("\",\"encoding\":\"text\"")
            if lossy { out.raw(",\"lossy\":true") }
        case .base64:
            out.stringBody(Data(carry).base64EncodedString())
            out.raw("\",\"encoding\":\"base64\"")
        case .records:
            // A last partial record (cut by the limit) is left out.
            if !startedRecords { out.raw("{\"records\":[") }
            out.raw("]")
        }
        out.raw(",\"bytes\":")
        out.int(Int64(bytes))
        out.raw(",\"truncated\":")
        out.raw(truncated ? "true" : "false")
        out.raw("}")
        return out.buffer
    }

    /// `bytes` cut before a UTF-8 sequence its end leaves incomplete.
    static func splitUTF8(_ bytes: [UInt8]) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        var start = bytes.count
        var back = 0
        while start > 0, back < 4 {
            start -= 1
            back += 1
            let byte = bytes[start]
            if byte & 0xC0 != 0x80 {
                // A lead byte: how long its sequence is (1 for a byte that leads none).
                let length = switch byte {
                case 0xC2...0xDF: 2
                case 0xE0...0xEF: 3
                case 0xF0...0xF4: 4
                default: 1
                }
                return length > back ? (bytes[..<start], bytes[start...]) : (bytes[...], [])
            }
        }
        return (bytes[...], [])
    }
}

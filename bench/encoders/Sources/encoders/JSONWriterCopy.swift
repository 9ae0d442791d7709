import NIOCore

// A copy of what the snapshot path runs, taken from the server's sources:
// Sources/Server/JSON/JSONWriter.swift (raw, byte, uint, int, bool) and the
// integer case of Sources/Server/Values/ValueCodec.swift (`write` and
// `readInteger`). Keep it in step with them when they change.

struct JSONWriter {
    var buffer: ByteBuffer

    init(buffer: ByteBuffer) {
        self.buffer = buffer
    }

    @inline(__always)
    mutating func raw(_ text: StaticString) {
        buffer.writeStaticString(text)
    }

    @inline(__always)
    mutating func byte(_ byte: UInt8) {
        buffer.writeInteger(byte)
    }

    mutating func uint(_ value: UInt64) {
        if value < 10 {
            buffer.writeInteger(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        // Digits backwards into a 20-byte scratch, then one copy.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var value = value
            var index = 20
            while value > 0 {
                index &-= 1
                let (quotient, remainder) = value.quotientAndRemainder(dividingBy: 10)
                scratch[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remainder)
                value = quotient
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: scratch[index..<20]))
        }
    }

    mutating func int(_ value: Int64) {
        if value < 0 {
            byte(UInt8(ascii: "-"))
            uint(value.magnitude)
        } else {
            uint(UInt64(value))
        }
    }

    mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }
}

/// The part of the server's BTFType that a u32 -> u64 map needs; an
/// indirect enum like the real one, so the dispatch costs the same.
indirect enum BTFType {
    case integer(size: Int, signed: Bool, char: Bool, bool: Bool)
    case array(element: BTFType, count: Int)
    case opaque(size: Int)
}

enum ValueCodec {
    static func write(_ type: BTFType, _ bytes: UnsafeRawBufferPointer, to out: inout JSONWriter) {
        switch type {
        case .integer(let size, let signed, _, let isBool):
            guard let raw = readInteger(bytes, size: size) else { return }
            if isBool { return out.bool(raw != 0) }
            if signed { out.int(signExtend(raw, size: size)) } else { out.uint(raw) }
        case .array, .opaque:
            out.raw("null")
        }
    }

    @inline(__always)
    static func readInteger(_ bytes: UnsafeRawBufferPointer, size: Int) -> UInt64? {
        guard bytes.count >= size else { return nil }
        switch size {
        case 1: return UInt64(bytes[0])
        case 2: return UInt64(UInt16(littleEndian: bytes.loadUnaligned(as: UInt16.self)))
        case 4: return UInt64(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
        case 8: return UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        default: return nil
        }
    }

    @inline(__always)
    static func signExtend(_ raw: UInt64, size: Int) -> Int64 {
        switch size {
        case 1: Int64(Int8(truncatingIfNeeded: raw))
        case 2: Int64(Int16(truncatingIfNeeded: raw))
        case 4: Int64(Int32(truncatingIfNeeded: raw))
        default: Int64(bitPattern: raw)
        }
    }
}

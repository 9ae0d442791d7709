import BpfleetShared

/// How one map's keys and values turn into JSON and back: through the map's
/// BTF types in `typed` format, as lowercase hex without BTF or in `hex`.
/// Per-CPU values are a list with one value per CPU.
public struct MapCodec: Sendable {
    public var keySize: Int
    public var valueSize: Int
    /// CPUs in a per-CPU value; nil for an ordinary map.
    public var cpus: Int?
    public let keyType: BTFType?
    public let valueType: BTFType?
    /// Plain integer keys and values (the common counter map) skip the
    /// general codec: no walk of the indirect BTF enum per entry.
    private let keyInteger: IntegerLayout?
    private let valueInteger: IntegerLayout?

    public init(keySize: Int, valueSize: Int, cpus: Int?, keyType: BTFType?, valueType: BTFType?) {
        self.keySize = keySize
        self.valueSize = valueSize
        self.cpus = cpus
        // A BTF type whose size disagrees with the map's is not trusted.
        self.keyType = keyType?.size == keySize ? keyType : nil
        self.valueType = valueType?.size == valueSize ? valueType : nil
        self.keyInteger = IntegerLayout(self.keyType)
        self.valueInteger = IntegerLayout(self.valueType)
    }

    var valueStride: Int { cpus == nil ? valueSize : (valueSize + 7) & ~7 }
    public var valueBufferSize: Int { valueStride * (cpus ?? 1) }

    // MARK: bytes -> JSON

    public func writeKey(_ bytes: UnsafeRawBufferPointer, format: ValueFormat, to out: inout JSONWriter) {
        if format == .typed, let keyInteger {
            keyInteger.write(bytes, to: &out)
        } else if format == .typed, let keyType {
            ValueCodec.write(keyType, bytes, to: &out)
        } else {
            out.hexString(bytes)
        }
    }

    public func writeValue(_ bytes: UnsafeRawBufferPointer, format: ValueFormat, to out: inout JSONWriter) {
        guard let cpus else { return writeOne(bytes, format: format, to: &out) }
        out.byte(UInt8(ascii: "["))
        for cpu in 0..<cpus {
            if cpu > 0 { out.byte(UInt8(ascii: ",")) }
            let start = cpu * valueStride
            writeOne(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + valueSize)]), format: format, to: &out)
        }
        out.byte(UInt8(ascii: "]"))
    }

    private func writeOne(_ bytes: UnsafeRawBufferPointer, format: ValueFormat, to out: inout JSONWriter) {
        if format == .typed, let valueInteger {
            valueInteger.write(bytes, to: &out)
        } else if format == .typed, let valueType {
            ValueCodec.write(valueType, bytes, to: &out)
        } else {
            out.hexString(bytes)
        }
    }

    // MARK: JSON -> bytes

    public func encodeKey(_ key: JSONValue, format: ValueFormat) throws(ValueError) -> [UInt8] {
        try encode(key, as: format == .typed ? keyType : nil, size: keySize, path: "key")
    }

    /// A per-CPU value is a list of one value per CPU, or one value that
    /// every CPU gets.
    public func encodeValue(_ value: JSONValue, format: ValueFormat) throws(ValueError) -> [UInt8] {
        let type = format == .typed ? valueType : nil
        guard let cpus else { return try encode(value, as: type, size: valueSize, path: "value") }
        let perCPU: [JSONValue]
        let valueIsList = type?.acceptsArray ?? false
        if case .array(let list) = value, !valueIsList || (list.count == cpus && list.allSatisfy(\.isArray)) {
            guard list.count == cpus else {
                throw ValueError(path: "value", message: "a per-CPU value takes one value or a list of \(cpus) (one per CPU), got \(list.count)")
            }
            perCPU = list
        } else {
            perCPU = Array(repeating: value, count: cpus)
        }
        var buffer = [UInt8](repeating: 0, count: valueBufferSize)
        for (cpu, item) in perCPU.enumerated() {
            let bytes = try encode(item, as: type, size: valueSize, path: "value[\(cpu)]")
            buffer.replaceSubrange((cpu * valueStride)..<(cpu * valueStride + valueSize), with: bytes)
        }
        return buffer
    }

    private func encode(_ value: JSONValue, as type: BTFType?, size: Int, path: String) throws(ValueError) -> [UInt8] {
        guard let type else {
            guard case .string(let text) = value, let bytes = Hex.decode(text) else {
                throw ValueError(path: path, message: "expected a hex string of \(size) bytes (this map has no BTF, or format is hex)")
            }
            guard bytes.count == size else {
                // `value[2]` of a per-CPU value is one CPU's value.
                let part = path.hasPrefix("key") ? "key" : "value"
                throw ValueError(path: path, message: "given \(bytes.count) byte\(bytes.count == 1 ? "" : "s"), the map's \(part) is \(size) byte\(size == 1 ? "" : "s")")
            }
            return bytes
        }
        var buffer = [UInt8](repeating: 0, count: size)
        var failure: ValueError?
        buffer.withUnsafeMutableBytes { raw in
            do throws(ValueError) {
                try ValueCodec.encode(value, as: type, into: raw, path: path)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return buffer
    }
}

extension JSONValue {
    var isArray: Bool {
        if case .array = self { return true }
        return false
    }
}

extension BTFType {
    /// Whether a JSON array is a valid value of this type (so that a per-CPU
    /// list of arrays is told apart from one array for every CPU).
    var acceptsArray: Bool {
        if case .array = self { return true }
        return false
    }
}

/// A non-bool integer of 1, 2, 4 or 8 bytes.
struct IntegerLayout: Sendable {
    var size: Int
    var signed: Bool

    init?(_ type: BTFType?) {
        guard case .integer(let size, let signed, _, false)? = type, [1, 2, 4, 8].contains(size) else { return nil }
        self.size = size
        self.signed = signed
    }

    @inline(__always)
    func write(_ bytes: UnsafeRawBufferPointer, to out: inout JSONWriter) {
        let raw = ValueCodec.readInteger(bytes, size: size) ?? 0
        if signed { out.int(ValueCodec.signExtend(raw, size: size)) } else { out.uint(raw) }
    }
}

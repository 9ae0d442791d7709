/// A map key, value or global variable's type as BTF describes it, with
/// typedefs and qualifiers resolved away. Pure data: the value codec works
/// on it without touching libbpf, so it is unit-tested with hand-made types.
public indirect enum BTFType: Sendable, Hashable {
    case integer(size: Int, signed: Bool, char: Bool, bool: Bool)
    case float(size: Int)
    case pointer(size: Int)
    case array(element: BTFType, count: Int)
    case structure(name: String, size: Int, members: [BTFMember])
    case union(name: String, size: Int, members: [BTFMember])
    case enumeration(name: String, size: Int, signed: Bool, cases: [BTFEnumCase])
    /// Anything the codec does not decode (function pointers, forward
    /// declarations): shown as hex.
    case opaque(size: Int)

    public var size: Int {
        switch self {
        case .integer(let size, _, _, _), .float(let size), .pointer(let size), .opaque(let size): size
        case .array(let element, let count): element.size * count
        case .structure(_, let size, _), .union(_, let size, _), .enumeration(_, let size, _, _): size
        }
    }

    /// `char[N]` and friends: shown as a string.
    public var isCharArray: Bool {
        if case .array(.integer(1, _, true, _), _) = self { return true }
        return false
    }
}

public struct BTFMember: Sendable, Hashable {
    public var name: String
    public var type: BTFType
    public var bitOffset: Int
    /// 0 for an ordinary member; the width for a bitfield.
    public var bitfieldSize: Int

    public init(name: String, type: BTFType, bitOffset: Int, bitfieldSize: Int = 0) {
        self.name = name
        self.type = type
        self.bitOffset = bitOffset
        self.bitfieldSize = bitfieldSize
    }
}

public struct BTFEnumCase: Sendable, Hashable {
    public var name: String
    public var value: Int64

    public init(name: String, value: Int64) {
        self.name = name
        self.value = value
    }
}

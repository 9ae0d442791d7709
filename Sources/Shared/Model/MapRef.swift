/// Names a map: by probe and map name, or by the kernel's map id.
public enum MapRef: Codable, Sendable, Hashable, CustomStringConvertible {
    case named(probe: String, name: String)
    case id(UInt32)

    private enum Key: String, CodingKey { case probe, name, id }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if c.contains(.id) {
            // Decoded wide, so that -3 or 2^40 is "not a map id", not "not JSON".
            let id = try c.decode(Int64.self, forKey: .id)
            guard let exact = UInt32(exactly: id), exact > 0 else {
                throw DecodingError.dataCorruptedError(forKey: .id, in: c, debugDescription: "a map id is 1 to 4294967295, got \(id)")
            }
            self = .id(exact)
        } else {
            self = .named(probe: try c.decode(String.self, forKey: .probe), name: try c.decode(String.self, forKey: .name))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .named(let probe, let name):
            try c.encode(probe, forKey: .probe)
            try c.encode(name, forKey: .name)
        case .id(let id):
            try c.encode(id, forKey: .id)
        }
    }

    public var description: String {
        switch self {
        case .named(let probe, let name): "\(probe)/\(name)"
        case .id(let id): "map id \(id)"
        }
    }
}

/// How map keys and values are written: decoded through BTF, or raw bytes.
public enum ValueFormat: String, Codable, Sendable, CaseIterable {
    case typed
    case hex
}

import BpfleetShared
import Foundation
import NIOCore

extension MapList: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        Result(maps: try await context.registry.maps(of: probe))
    }
}

/// A result written as raw JSON (typed values come from the BTF codec as
/// bytes, not as Codable values).
struct RawJSON: Encodable, Sendable {
    let bytes: ByteBuffer
    func encode(to encoder: Encoder) throws {
        preconditionFailure("RawJSON is written directly by the dispatcher")
    }
}

extension MapSnapshot: ServedMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        if let limit, limit < 0 { throw ResponseError.invalidParams("limit: must be 0 or more", field: "limit") }
        let (probe, map) = try await context.mapForReading(self.map)
        guard map.io.holdsEntries else {
            throw ResponseError.invalidParams("map '\(map.name)' is a \(mapTypeName(map.info.type)) map: it has no entries to read (events.subscribe streams it)", field: "map")
        }
        let format = self.format ?? .typed
        let limit = self.limit
        let pool = context.threadPool
        let stacks = symbolize == true ? try StackRendering.of(map, in: probe, stackMap: stackMap) : nil
        return .stream { sink in
            try await MapSnapshotWriter(probe: probe, map: map, format: format, limit: limit, pool: pool, stacks: stacks).write(to: sink)
        }
    }
}

extension MapLookup: ServedMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        let (probe, map) = try await context.mapForReading(self.map)
        defer { withExtendedLifetime(probe) {} }  // keeps the map descriptor open
        let format = self.format ?? .typed
        let stacks = symbolize == true ? try StackRendering.of(map, in: probe, stackMap: stackMap) : nil
        let key = try map.codec.encodeKey(self.key, format: format, map: map)
        guard let value = try kernelCall({ () throws(KernelError) in try map.io.lookup(key) }) else {
            throw ResponseError(.notFound, "no entry with that key in map '\(map.name)'", data: ["kind": "entry", "key": self.key])
        }
        var out = JSONWriter(buffer: ByteBuffer())
        out.raw("{\"key\":")
        key.withUnsafeBytes { map.codec.writeKey($0, format: format, to: &out) }
        out.raw(",\"value\":")
        key.withUnsafeBytes { keyBytes in
            value.withUnsafeBytes { map.codec.writeValue($0, key: keyBytes, format: format, stacks: stacks, to: &out) }
        }
        out.raw("}")
        return .value(RawJSON(bytes: out.buffer))
    }
}

extension MapUpdate: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        let flagValue: UInt64
        switch flags ?? "any" {
        case "any": flagValue = 0  // BPF_ANY
        case "noexist": flagValue = 1  // BPF_NOEXIST
        case "exist": flagValue = 2  // BPF_EXIST
        default: throw ResponseError.invalidParams("flags: expected any, noexist or exist", field: "flags")
        }
        let (probe, map) = try await context.mapForWriting(self.map, "maps bpfleet does not own are read-only")
        defer { withExtendedLifetime(probe) {} }  // keeps the map descriptor open
        let format = self.format ?? .typed
        let key = try map.codec.encodeKey(self.key, format: format, map: map)
        let value = try map.codec.encodeValue(self.value, format: format, map: map)
        try kernelCall { () throws(KernelError) in try map.io.update(key, value, flags: flagValue) }
        return EmptyResult()
    }
}

extension MapDelete: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        let (probe, map) = try await context.mapForWriting(self.map, "maps bpfleet does not own are read-only")
        defer { withExtendedLifetime(probe) {} }  // keeps the map descriptor open
        let key = try map.codec.encodeKey(self.key, format: self.format ?? .typed, map: map)
        try kernelCall { () throws(KernelError) in try map.io.delete(key) }
        return EmptyResult()
    }
}

extension MapCodec {
    /// Encoding failures as invalid params naming the field.
    func encodeKey(_ key: JSONValue, format: ValueFormat, map: ProbeMap) throws(ResponseError) -> [UInt8] {
        do { return try encodeKey(key, format: format) } catch { throw Self.invalid(error, map) }
    }

    func encodeValue(_ value: JSONValue, format: ValueFormat, map: ProbeMap) throws(ResponseError) -> [UInt8] {
        do { return try encodeValue(value, format: format) } catch { throw Self.invalid(error, map) }
    }

    private static func invalid(_ error: ValueError, _ map: ProbeMap) -> ResponseError {
        let type = error.path.hasPrefix("key") ? map.keyTypeName : map.valueTypeName
        return ResponseError(.invalidParams, "\(error.path): \(error.message)\(type.map { " (map '\(map.name)' \(error.path.hasPrefix("key") ? "key" : "value") type: \($0))" } ?? "")",
                             data: ["field": .string(error.path)])
    }
}

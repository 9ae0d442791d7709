import BpfleetShared

/// `--id N` of `map dump` and `map watch`, as bpftool's habit and git's
/// meet: a map with that very id is that map; when there is none, N may
/// be the start of exactly one map's id on the node (`836` for 8361), as
/// object ids may be given by a prefix. Resolved on each node against its
/// own maps (`node.maps`, without the /proc walk). An exact id always
/// wins, so an id that exists is never read as a prefix of another; a
/// prefix two ids start with is refused naming both.
enum KernelMapID {
    static func resolve(_ reference: MapRef, on connection: NodeConnection) async throws -> MapRef {
        guard case .id(let given) = reference else { return reference }
        let listing = try await MethodFailure.naming(NodeMaps.method) { try await connection.call(NodeMaps(holders: false)) }
        return .id(try choose(given, among: listing.maps.map(\.id), truncated: listing.truncated))
    }

    /// The id `given` names among a node's map ids.
    static func choose(_ given: UInt32, among ids: [UInt32], truncated: Bool) throws -> UInt32 {
        if ids.contains(given) { return given }
        let prefix = String(given)
        let matches = ids.filter { String($0).hasPrefix(prefix) }.sorted()
        switch matches.count {
        case 1:
            return matches[0]
        case 0:
            let more = truncated ? " (of the maps node.maps listed; it lists a bounded number)" : ""
            throw ResponseError(.notFound, "no map on this node has the id \(prefix) or an id starting \(prefix)\(more)",
                                data: ["kind": "map", "id": .uint(UInt64(given))])
        default:
            throw ResponseError(.invalidParams,
                                "\(prefix) is the start of more than one map's id on this node: \(matches.map(String.init).joined(separator: ", ")) (give more of it)",
                                data: ["prefix": .string(prefix), "matches": .array(matches.map { .uint(UInt64($0)) })])
        }
    }
}

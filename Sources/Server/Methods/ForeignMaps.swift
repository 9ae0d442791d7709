import BpfleetShared
import CLibBPF
import Glibc

/// Maps by kernel id that no probe of this node holds: another tool's
/// ("foreign") maps. Reading one is a privilege the node grants
/// (`--foreign-maps`) to operators only, written to the audit log before
/// the map is opened; writing one is refused always (docs/security.md,
/// "Maps bpfleet does not own").
extension CallContext {
    /// The map a read names: a probe's, else (by id, where allowed) the
    /// kernel's map of that id, held through a stand-in probe named
    /// `map id N` that no unload ends.
    func mapForReading(_ ref: MapRef) async throws -> (probe: LoadedProbe, map: ProbeMap) {
        guard case .id(let id) = ref else { return try await registry.map(ref) }
        return try await registry.ownedMap(id: id) ?? openForeign(id)
    }

    /// The map a write names: a probe's only. A foreign map's id is
    /// refused as such, not as not found.
    func mapForWriting(_ ref: MapRef, _ why: String) async throws -> (probe: LoadedProbe, map: ProbeMap) {
        guard case .id(let id) = ref else { return try await registry.map(ref) }
        if let owned = await registry.ownedMap(id: id) { return owned }
        if let descriptor = KernelInventory.open(.map, id: id) {
            withExtendedLifetime(descriptor) {}
            throw ResponseError(.permissionDenied, "map id \(id) is not a bpfleet probe's: \(why)",
                                data: ["method": .string(caller?.method ?? ""), "map": .int(Int64(id)), "foreign": true])
        }
        return try await registry.map(ref)
    }

    private func openForeign(_ id: UInt32) throws -> (probe: LoadedProbe, map: ProbeMap) {
        let method = caller?.method ?? "a map read"
        guard foreignMaps else {
            throw ResponseError(.notFound,
                                "no probe on this node holds map id \(id) (maps bpfleet does not own are not readable on this node: bpfleetd --foreign-maps)",
                                data: ["kind": "map", "id": .int(Int64(id))])
        }
        guard let caller, caller.role >= .operator else {
            throw ResponseError(.permissionDenied,
                                "permission denied: \(method) of map id \(id), which bpfleet does not own, needs operator (you are \(caller?.role.rawValue ?? "nobody"))",
                                data: ["method": .string(method), "needs": "operator", "role": .string(caller?.role.rawValue ?? ""),
                                       "map": .int(Int64(id)), "foreign": true])
        }
        // Recorded before it is read, as a change is: a read the log
        // cannot take is refused.
        if let audit = caller.audit, let refusal = audit.reserve() { throw refusal }
        let targets: [String: JSONValue] = ["map": .int(Int64(id)), "foreign": true]
        let opened: Result<(probe: LoadedProbe, map: ProbeMap), ResponseError>
        if let descriptor = KernelInventory.open(.map, id: id), let info = MapInfo(fd: descriptor.fd) {
            let btf = KernelBTF(id: info.btfID)
            let map = ProbeMap(name: info.name.isEmpty ? "map id \(id)" : info.name, descriptor: descriptor, info: info,
                               btf: btf?.reader, pinPath: "")
            let holder = LoadedProbe(name: "map id \(id)", objectId: "", labels: [:], globals: [:], pinDirectory: "",
                                     btf: btf, programs: [], maps: [map])
            opened = .success((holder, map))
        } else {
            opened = .failure(ResponseError(.notFound, "the kernel has no map id \(id)", data: ["kind": "map", "id": .int(Int64(id))]))
        }
        if let audit = caller.audit {
            let outcome: Result<[String: JSONValue], ResponseError> = opened.map { _ in [:] }
            audit.record(.init(peer: caller.peer, role: caller.role, method: method, id: caller.id, targets: targets, outcome: outcome),
                         reserved: true)
        }
        return try opened.get()
    }
}

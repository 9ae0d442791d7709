import BpfleetShared

/// What a rollout did to one node.
public enum NodeAction: String, Sendable, Hashable, Codable {
    /// The probe was not there; it was loaded with its links.
    case created
    /// Another spec was there; it was replaced (links moved without a gap
    /// where the kernel can, docs/protocol.md).
    case replaced
    /// The spec was there but links were not; they were attached or detached.
    case repaired
    /// The node already held the spec: nothing was sent but reads.
    case unchanged
    /// Rollback: the probe the rollout created was unloaded.
    case unloaded
    /// Rollback: the node's earlier probe was put back.
    case restored
    /// `delete`: there was nothing to unload.
    case absent
}

/// The calls that bring one node to a desired probe, on one connection.
/// Every step is a plain JSON-RPC call (docs/fleet.md, "What apply does on a
/// node"); the server keeps each one all-or-nothing, so a failure leaves the
/// node with its old probe or the new one, and a rollback converges it back.
struct NodeConvergence {
    var connection: NodeConnection

    /// The probe of that name, or nil when the node has none.
    func probe(named name: String) async throws -> ProbeDescription? {
        do {
            return try await connection.call(ProbeGet(probe: name))
        } catch let error as ResponseError where error.code == .notFound && error.data?["kind"] == "probe" {
            return nil
        }
    }

    /// Brings the node to `wanted`; `current` is what `probe(named:)` read.
    func converge(_ current: ProbeDescription?, to wanted: DesiredProbe) async throws -> NodeAction {
        switch ProbeDrift.of(current, against: wanted) {
        case .inSync:
            return .unchanged
        case .missing:
            try await ensureObject(of: wanted)
            _ = try await connection.call(wanted.loadRequest)
            return .created
        case .links(let missing, let extra):
            try await fixLinks(of: wanted.name, detaching: extra, attaching: missing)
            return .repaired
        case .unhealthy:
            // A degraded or failed probe cannot be replaced in place: it goes
            // and the wanted one comes, with a gap.
            try await ensureObject(of: wanted)
            _ = try await connection.call(ProbeUnload(probe: wanted.name))
            _ = try await connection.call(wanted.loadRequest)
            return .replaced
        case .otherSpec:
            try await ensureObject(of: wanted)
            // ProbeDrift.of says otherSpec only of a probe it was given;
            // with none, loading is the whole of it.
            guard let current else {
                _ = try await connection.call(wanted.loadRequest)
                return .created
            }
            try await replace(current, with: wanted)
            return .replaced
        }
    }

    /// Links the wanted probe does not have go first, the probe is replaced
    /// (its remaining links move to the new programs), then the links it
    /// lacks are attached.
    private func replace(_ current: ProbeDescription, with wanted: DesiredProbe) async throws {
        let (_, extra) = ProbeDrift.linkDifference(have: current.links, want: wanted.attach)
        for linkId in extra {
            _ = try await connection.call(ProbeDetach(probe: wanted.name, linkId: linkId))
        }
        let keep = wanted.keepMaps.filter { name in current.maps.contains { $0.name == name } }
        var request = wanted.loadRequest
        request.attach = nil
        request.replace = true
        request.keepMaps = keep.isEmpty ? nil : keep
        let replaced = try await connection.call(request)
        let (missing, _) = ProbeDrift.linkDifference(have: replaced.links, want: wanted.attach)
        try await fixLinks(of: wanted.name, detaching: [], attaching: missing)
    }

    private func fixLinks(of probe: String, detaching: [Int], attaching: [ProbeLoad.Attachment]) async throws {
        for linkId in detaching {
            _ = try await connection.call(ProbeDetach(probe: probe, linkId: linkId))
        }
        for link in attaching {
            _ = try await connection.call(ProbeAttach(probe: probe, program: link.program, target: link.target))
        }
    }

    /// Uploads the object unless the node has it with every signature the
    /// manifest has (the node adds new ones to those it holds, and its
    /// object policy judges them all again at the load).
    private func ensureObject(of wanted: DesiredProbe) async throws {
        let held: ObjectDescription
        do {
            held = try await connection.call(ObjectGet(objectId: wanted.objectId))
        } catch let error as ResponseError where error.code == .notFound {
            guard let upload = wanted.upload else { throw error }
            _ = try await connection.call(upload)
            return
        }
        if let upload = wanted.upload, upload.lacksSignatures(of: held) {
            _ = try await connection.call(upload)
        }
    }

    /// Rollback: back to what the node held before (`before`), or to no
    /// probe of that name.
    func restore(_ before: ProbeDescription?, name: String, keepMaps: [String]) async throws -> NodeAction {
        let current = try await probe(named: name)
        guard let before else {
            guard current != nil else { return .unchanged }
            _ = try await connection.call(ProbeUnload(probe: name))
            return .unloaded
        }
        let action = try await converge(current, to: DesiredProbe(restoring: before, keepMaps: keepMaps))
        return action == .unchanged ? .unchanged : .restored
    }

    /// `delete`: unloads the probe if it is there.
    func remove(_ name: String) async throws -> NodeAction {
        do {
            _ = try await connection.call(ProbeUnload(probe: name))
            return .unloaded
        } catch let error as ResponseError where error.code == .notFound && error.data?["kind"] == "probe" {
            return .absent
        }
    }
}

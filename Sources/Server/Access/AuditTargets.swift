import BpfleetShared

/// What a call that changes the node touched, for the audit log: names and
/// ids, never object bytes or map values.
protocol Audited {
    var auditTargets: [String: JSONValue] { get }
}

extension ObjectUpload: Audited {
    var auditTargets: [String: JSONValue] {
        var targets: [String: JSONValue] = ["bytes": .int(Int64(data.utf8.count / 4 * 3))]
        if let name { targets["name"] = .string(name) }
        if let signatures { targets["signatures"] = .array(signatures.map { .string($0.keyId) }) }
        return targets
    }
}

extension ObjectDelete: Audited {
    var auditTargets: [String: JSONValue] { ["objectId": .string(objectId)] }
}

extension ProbeLoad: Audited {
    var auditTargets: [String: JSONValue] {
        var targets: [String: JSONValue] = ["probe": .string(name), "objectId": .string(objectId)]
        if let programs { targets["programs"] = .array(programs.map(JSONValue.string)) }
        if let globals { targets["globals"] = .object(globals) }
        if let labels { targets["labels"] = .object(labels.mapValues(JSONValue.string)) }
        if replace == true { targets["replace"] = true }
        if let keepMaps { targets["keepMaps"] = .array(keepMaps.map(JSONValue.string)) }
        if let attach {
            targets["attach"] = .array(attach.map { ["program": .string($0.program), "target": .string($0.target.description)] })
        }
        return targets
    }
}

extension ProbeAttach: Audited {
    var auditTargets: [String: JSONValue] {
        ["probe": .string(probe), "program": .string(program), "target": .string(target.description)]
    }
}

extension ProbeDetach: Audited {
    var auditTargets: [String: JSONValue] { ["probe": .string(probe), "linkId": .int(Int64(linkId))] }
}

extension ProbeUnload: Audited {
    var auditTargets: [String: JSONValue] { ["probe": .string(probe)] }
}

extension MapUpdate: Audited {
    var auditTargets: [String: JSONValue] { ["map": .string(map.description), "key": key] }
}

extension MapDelete: Audited {
    var auditTargets: [String: JSONValue] { ["map": .string(map.description), "key": key] }
}

/// The kernel ids a successful change produced.
func auditResult(_ value: any Encodable) -> [String: JSONValue] {
    switch value {
    case let object as ObjectDescription:
        return signing(["objectId": .string(object.objectId)], object.signers, object.policy)
    case let probe as ProbeDescription:
        var touched: [String: JSONValue] = [
            "programIds": .array(probe.programs.map { .int(Int64($0.id)) }),
            "mapIds": .array(probe.maps.map { .int(Int64($0.id)) })]
        if let replaced = probe.replacedProgramIds {
            touched["replacedProgramIds"] = .array(replaced.map { .int(Int64($0)) })
            touched["kernelLinkIds"] = .array(probe.links.map { .int(Int64($0.id)) })
        }
        return signing(touched, probe.signers, probe.policy)
    case let link as LinkDescription:
        return ["linkId": .int(Int64(link.linkId)), "kernelLinkId": .int(Int64(link.id))]
    default:
        return [:]
    }
}

/// The signer key ids and the object policy's verdict, on a node with a
/// policy: every object stored or loaded is on record with who signed it.
private func signing(_ fields: [String: JSONValue], _ signers: [ObjectSigner]?, _ policy: String?) -> [String: JSONValue] {
    var fields = fields
    if let signers { fields["signers"] = .array(signers.map { .string($0.keyId) }) }
    if let policy { fields["policy"] = .string(policy) }
    return fields
}

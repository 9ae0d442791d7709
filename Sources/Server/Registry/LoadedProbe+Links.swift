import BpfleetShared
import Foundation

extension LoadedProbe {
    /// Every link of the desired state, in link id order, each with its
    /// kernel ids and its state as the kernel sees it now: the attached
    /// ones (`attached`, or `missing` when the kernel has let go of them)
    /// and those that could not come back at start-up (`failed`).
    func linkDescriptions() -> [LinkDescription] {
        var described: [LinkDescription] = links.values.map { link in
            var description = link.description
            description.ids = link.link.kernelIDs
            if let reason = link.link.missingReason() {
                description.state = "missing"
                description.stateReason = reason
            } else {
                description.state = "attached"
                description.stateReason = nil
            }
            return description
        }
        described += unattachedLinks.values.map { link in
            LinkDescription(linkId: link.linkId, id: 0, ids: [], program: link.program, target: link.target, pinPath: nil,
                            attachedAt: link.attachedAt, state: "failed",
                            stateReason: unattachedReasons[link.linkId] ?? restoreError ?? "not attached again at start-up")
        }
        return described.sorted { $0.linkId < $1.linkId }
    }
}

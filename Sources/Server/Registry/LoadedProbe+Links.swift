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
            description.resolvedTarget = autoTarget(of: description)
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
            LinkDescription(linkId: link.linkId, id: 0, ids: [], program: link.program, target: link.target,
                            resolvedTarget: autoTarget(of: link), pinPath: nil,
                            attachedAt: link.attachedAt, state: "failed",
                            stateReason: unattachedReasons[link.linkId] ?? restoreError ?? "not attached again at start-up")
        }
        return described.sorted { $0.linkId < $1.linkId }
    }

    /// What an `auto` link's program section names (nil for other targets):
    /// computed where a link is shown, so links restored or adopted from
    /// a desired state written before `resolvedTarget` existed show it too.
    func autoTarget(of link: some AutoTargeted) -> AttachTarget? {
        guard case .auto = link.target, let program = try? program(named: link.program) else { return nil }
        return Attacher.autoTarget(of: program.attachable)
    }
}

/// A link as asked for: its program and target.
protocol AutoTargeted {
    var program: String { get }
    var target: AttachTarget { get }
}

extension LinkDescription: AutoTargeted {}
extension DesiredLink: AutoTargeted {}

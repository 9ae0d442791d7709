import BpfleetShared
import Foundation

/// A probe of the desired state that could not be adopted or restored at
/// start-up. Nothing of it runs under this bpfleetd (pins it could not
/// adopt stay until `probe.unload`, which removes them and its desired
/// state); its desired state stays on disk, so the next start tries again.
struct FailedProbe: Sendable {
    var desired: DesiredProbe
    var error: String
    var attempted: ProbeOrigin
    var at: Date

    func describe() -> ProbeDescription {
        ProbeDescription(
            name: desired.name, objectId: desired.objectId, labels: desired.labels, globals: desired.globals,
            loadedAt: desired.loadedAt, programs: [], maps: [], links: [], origin: attempted.rawValue, state: "failed",
            adoptedAt: attempted == .adopted ? at : nil, restoredAt: attempted == .restored ? at : nil,
            restoreError: error, mapSettings: desired.maps, metrics: desired.metrics)
    }
}

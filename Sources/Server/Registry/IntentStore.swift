import BpfleetShared
import Foundation

/// `STATE/intents/NAME`: an empty file saying that a call is creating or
/// removing the pins of probe NAME. `probe.load` creates it before its
/// first pin, `probe.unload` before it removes the desired state; both
/// remove it once the desired state says how the call ended. A start-up
/// that finds one settles the call (docs/state-and-pins.md): with a
/// desired state the call is taken as done or not begun, as that state
/// says; without one, whatever is pinned under NAME is removed.
///
/// The file is not synced to disk: it guards against a killed process,
/// and the pins it guards do not outlive a power cut either.
struct IntentStore {
    let directory: String

    init(stateDirectory: String) throws {
        directory = stateDirectory + "/intents"
        try makeDirectories(directory)
    }

    func begin(_ name: String) throws(ResponseError) {
        let fd = open("\(directory)/\(name)", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ResponseError(.internalError, "could not record the intent for probe '\(name)' under \(directory): \(errnoText(currentErrno()))")
        }
        close(fd)
    }

    func end(_ name: String) {
        unlink("\(directory)/\(name)")
    }

    /// The names of calls a crash interrupted.
    func pending() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}

import BpfleetShared
import Foundation

/// What a probe should be, as `STATE/probes/NAME.json` keeps it: enough to
/// adopt its pins after a restart, or to load and attach it again when the
/// pins are gone (docs/state-and-pins.md).
struct DesiredProbe: Codable, Sendable, Hashable {
    /// The file format; a file with a version this bpfleetd does not know is
    /// set aside like a corrupt one.
    var version = 1
    var name: String
    var objectId: String
    /// The programs loaded, by name.
    var programs: [String]
    var globals: [String: JSONValue]
    var labels: [String: String]
    var loadedAt: Date
    var links: [DesiredLink]
    var nextLinkId: Int
    /// `probe.load`'s map settings; absent when none were given (and from
    /// files older bpfleetd versions wrote).
    var maps: [String: MapSettings]? = nil
    /// `probe.load`'s map exports; absent when none were given.
    var metrics: [MetricExport]? = nil
}

struct DesiredLink: Codable, Sendable, Hashable {
    var linkId: Int
    var program: String
    var target: AttachTarget
    var attachedAt: Date
}

/// The desired state of every probe, one file per probe under
/// `STATE/probes`, each written atomically: a crash leaves the old state
/// or the new, never a torn one.
struct DesiredStateStore {
    let directory: String
    /// Where each write's seconds are counted (docs/metrics.md).
    let metrics: ServerMetrics?

    init(stateDirectory: String, metrics: ServerMetrics? = nil) throws {
        directory = stateDirectory + "/probes"
        self.metrics = metrics
        try makeDirectories(directory)
    }

    func path(of name: String) -> String { "\(directory)/\(name).json" }

    func write(_ probe: DesiredProbe) throws(ResponseError) {
        let started = ContinuousClock.now
        defer {
            let took = (ContinuousClock.now - started).components
            metrics?.desiredStateWritten(seconds: Double(took.seconds) + Double(took.attoseconds) / 1e18)
        }
        do {
            let encoder = JSONEncoder.wire()
            encoder.outputFormatting.insert(.sortedKeys)
            try AtomicFile.write(Array(try encoder.encode(probe)), to: path(of: probe.name))
        } catch {
            throw ResponseError(.internalError, "could not write the desired state of probe '\(probe.name)': \(error)")
        }
    }

    func remove(_ name: String) throws(ResponseError) {
        guard unlink(path(of: name)) == 0 || errno == ENOENT else {
            throw ResponseError(.internalError, "could not remove \(path(of: name)): \(String(cString: strerror(errno)))")
        }
    }

    struct Reading {
        var probes: [DesiredProbe] = []
        /// Files that did not read as a desired state: where each was moved, and why.
        var setAside: [(file: String, movedTo: String, reason: String)] = []
    }

    /// Every desired state on disk. A file that does not decode, or names
    /// another probe than its file name, is renamed to
    /// `NAME.json.corrupt-TIMESTAMP` (kept for the operator, never read
    /// again); temporary files a crash left behind are removed.
    func readAll() -> Reading {
        var reading = Reading()
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        for file in files {
            let path = "\(directory)/\(file)"
            if file.contains(".json.tmp-") {
                unlink(path)
                continue
            }
            guard file.hasSuffix(".json") else { continue }
            let stem = String(file.dropLast(".json".count))
            let reason: String
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                let probe = try JSONDecoder.wire().decode(DesiredProbe.self, from: data)
                if probe.version != 1 {
                    reason = "format version \(probe.version) is not known to this bpfleetd"
                } else if probe.name != stem {
                    reason = "it names probe '\(probe.name)', not '\(stem)'"
                } else {
                    reading.probes.append(probe)
                    continue
                }
            } catch {
                reason = "\(error)"
            }
            let aside = "\(path).corrupt-\(WireDate.string(Date()).filter { $0 != ":" && $0 != "-" })"
            rename(path, aside)
            reading.setAside.append((file, aside, reason))
        }
        return reading
    }
}

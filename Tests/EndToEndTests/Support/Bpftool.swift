import Foundation
import TestSupport

/// bpftool, the independent witness of what is in the kernel.
enum Bpftool {
    static let path = ["/usr/sbin/bpftool", "/usr/bin/bpftool", "/usr/local/sbin/bpftool"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    } ?? "bpftool"

    /// `bpftool -j KIND show id ID` as JSON, or nil when the kernel has no such object.
    static func show(_ kind: String, id: UInt32) throws -> [String: Any]? {
        let result = try run(path, ["-j", kind, "show", "id", String(id)])
        guard result.status == 0 else { return nil }
        return try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
    }

    static func exists(_ kind: String, id: UInt32) throws -> Bool {
        try show(kind, id: id) != nil
    }

    /// The ids of every object of a kind.
    static func ids(_ kind: String) throws -> Set<UInt32> {
        let result = try run(path, ["-j", kind, "show"])
        guard result.status == 0, let list = try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] else { return [] }
        return Set(list.compactMap { ($0["id"] as? NSNumber)?.uint32Value })
    }

    /// A map's entries as bpftool dumps them (`bpftool -j map dump id ID`).
    static func dump(mapID: UInt32) throws -> [[String: Any]] {
        let result = try run(path, ["-j", "map", "dump", "id", String(mapID)])
        guard result.status == 0 else { throw TestFailure("bpftool map dump id \(mapID) failed") }
        return try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] ?? []
    }
}

extension Bpftool {
    /// Whether the kernel has let go of an object within `timeout` seconds.
    /// The kernel frees maps and programs after an RCU grace period, so an
    /// object can outlive its last descriptor by a moment.
    static func isGone(_ kind: String, id: UInt32, timeout: TimeInterval = 5) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while try exists(kind, id: id) {
            if Date() > deadline { return false }
            usleep(20_000)
        }
        return true
    }
}

import Foundation
import TestSupport

/// Ways to make the kernel fire a probe an exact number of times.
enum Workload {
    /// Runs `path` again and again, one at a time, until the returned
    /// function is called (it waits for the last run to end; calling it
    /// again does nothing): execs that keep coming while a command waits
    /// for records.
    static func keepExecuting(_ path: String) -> () -> Void {
        let stop = NSLock()
        nonisolated(unsafe) var done = false
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            while !stop.withLock({ done }) { _ = try? Workload.exec(path, times: 1); usleep(20_000) }
            finished.signal()
        }
        thread.start()
        return {
            let first = stop.withLock { () -> Bool in
                defer { done = true }
                return !done
            }
            if first { finished.wait() }
        }
    }

    /// A copy of /bin/true under a fresh name (the comm a probe sees),
    /// at most 15 characters, in its own directory.
    static func uniqueBinary() throws -> (path: String, comm: String, cleanup: () -> Void) {
        let comm = "bft" + String(UInt64.random(in: 0...UInt64.max), radix: 36).prefix(10)
        let directory = NSTemporaryDirectory() + "bpfleet-bin-\(comm)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // World-readable and executable so that another uid can run it.
        chmod(directory, 0o755)
        let path = directory + "/" + comm
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: path)
        chmod(path, 0o755)
        return (path, comm, { try? FileManager.default.removeItem(atPath: directory) })
    }

    /// Runs `path` `times` times, one after another; returns the last pid.
    @discardableResult
    static func exec(_ path: String, times: Int, arguments: [String] = []) throws -> Int32 {
        var last: Int32 = 0
        for _ in 0..<times {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw TestFailure("\(path) exited \(process.terminationStatus)") }
            last = process.processIdentifier
        }
        return last
    }
}

/// sha256 by coreutils, a witness independent of the server's hashing.
func sha256Hex(_ data: Data) throws -> String {
    let path = NSTemporaryDirectory() + "bpfleet-sha-\(UInt32.random(in: 0...UInt32.max))"
    try createFile(path, contents: data)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let output = (try? run("/usr/bin/sha256sum", [path]).stdout) ?? Data()
    return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}

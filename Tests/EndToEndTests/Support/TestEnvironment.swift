import BpfleetShared
import Foundation

/// Where the suite finds what it runs: the built executables and the
/// compiled BPF programs.
enum TestEnvironment {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The products folder: $BPFLEET_BIN_DIR, else the test bundle's own.
    static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["BPFLEET_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = bundle.deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("bpfleetd").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }()

    static var bpfleetd: String { binDirectory.appendingPathComponent("bpfleetd").path }
    static var bpfleet: String { binDirectory.appendingPathComponent("bpfleet").path }

    /// A compiled example program (`make -C programs` builds them).
    static func program(_ name: String) throws -> Data {
        let path = packageRoot.appendingPathComponent("programs/build/\(name).bpf.o").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestFailure("missing \(path): run `make -C programs` (scripts/test.sh does)")
        }
        return data
    }

    static func programPath(_ name: String) -> String {
        packageRoot.appendingPathComponent("programs/build/\(name).bpf.o").path
    }

    /// Why kernel tests cannot run here, or nil when they can.
    static let kernelUnavailable: String? = {
        if getuid() != 0 { return "end-to-end tests load BPF programs and need root" }
        if !FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") { return "the kernel has no BTF (/sys/kernel/btf/vmlinux)" }
        return nil
    }()
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command to completion; returns its exit status and output.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: Data, stderr: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting, so a large output cannot block the child.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, outData, errData)
}

/// `bpfleet` run as another uid and gid (setpriv, no supplementary
/// groups); its JSON output (pass `-o json`), nil when it printed none.
func bpfleet(as uid: UInt32, _ arguments: [String]) throws -> JSONValue? {
    let result = try run("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", TestEnvironment.bpfleet] + arguments,
                         environment: ["HOME": "/tmp", "PATH": "/usr/bin:/bin"])
    return try? JSONDecoder().decode(JSONValue.self, from: result.stdout)
}

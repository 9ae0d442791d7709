import Foundation

/// Where the tests find what they run: the built executables and the
/// compiled BPF programs.
public enum TestEnvironment {
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The products folder: $BPFLEET_BIN_DIR, else the test bundle's own.
    public static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["BPFLEET_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = bundle.deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("bpfleetd").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }()

    public static var bpfleetd: String { binDirectory.appendingPathComponent("bpfleetd").path }
    public static var bpfleet: String { binDirectory.appendingPathComponent("bpfleet").path }

    /// A compiled example program (`make -C programs` builds them).
    public static func program(_ name: String) throws -> Data {
        let path = programPath(name)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestFailure("missing \(path): run `make -C programs` (scripts/test.sh does)")
        }
        return data
    }

    public static func programPath(_ name: String) -> String {
        packageRoot.appendingPathComponent("programs/build/\(name).bpf.o").path
    }
}

/// A test's own failure to set something up, said plainly.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A temporary directory for files a test hands the server (roles, certs),
/// readable by the other users some tests run commands as.
public func temporaryDirectory(_ tag: String) throws -> String {
    let path = NSTemporaryDirectory() + "bpfleet-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    chmod(path, 0o755)
    return path
}

/// Creates (or replaces) the file at `path`; a file that could not be
/// made fails the test that needed it, naming the file and why.
public func createFile(_ path: String, contents: Data = Data()) throws {
    guard FileManager.default.createFile(atPath: path, contents: contents) else {
        throw TestFailure("could not create \(path): \(String(cString: strerror(errno)))")
    }
}

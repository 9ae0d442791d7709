import BpfleetShared
import Foundation
import TestSupport
import Testing

/// One bpfleetd per socket, state directory and pin root: a second one
/// refuses to start, naming the first's pid, and the first goes on serving
/// on its own socket. A socket file nobody listens on is replaced; at exit a
/// server removes its socket only if it is still the one it bound.
@Suite(.requiresServer)
struct SingleOwnerTests {
    /// A temporary directory and a pin root for a second bpfleetd, removed
    /// with everything in them.
    final class Scratch {
        let directory: String
        let pinRoot: String

        init() {
            let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            directory = NSTemporaryDirectory() + "bpfleet-test-\(tag)"
            pinRoot = "/sys/fs/bpf/bpfleet-test-\(tag)"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        deinit {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: pinRoot)
        }
    }

    /// Runs a bpfleetd that must refuse to start: its exit status and its
    /// log (stderr). One still running after 30 s has started: it is
    /// killed and the test fails.
    func refusedStart(socket: String, stateDirectory: String, pinRoot: String, scratch: Scratch) throws -> (status: Int32, log: String) {
        let logPath = scratch.directory + "/refused.log"
        try createFile(logPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.bpfleetd)
        process.arguments = ["--listen", "unix:\(socket)", "--state-dir", stateDirectory, "--pin-root", pinRoot]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestFailure("a second bpfleetd started on \(socket), \(stateDirectory), \(pinRoot)")
        }
        return (process.terminationStatus, (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }

    /// The device, inode and change time of a file (not following a
    /// symlink), or nil when there is none. (A file made after another was
    /// removed may get its inode number.)
    func identity(_ path: String) -> [Int64]? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return [Int64(status.st_dev), Int64(status.st_ino), Int64(status.st_ctim.tv_sec), Int64(status.st_ctim.tv_nsec)]
    }

    /// When the server on `server`'s socket started (node.info).
    func startedAt(_ server: ServerProcess) throws -> JSONValue? {
        try server.client().call("node.info")["startedAt"]
    }

    /// The first server still answers on its socket, which is still the
    /// file it bound, and it is the same process as before.
    func expectServing(_ server: ServerProcess, socket: [Int64]?, startedAt before: JSONValue?) throws {
        #expect(server.process.isRunning)
        #expect(before != nil)
        #expect(try startedAt(server) == before)
        #expect(identity(server.socketPath) == socket)
    }

    @Test func aSecondServerOnTheSameSocketRefusesAndTheFirstKeepsIt() async throws {
        try await withServer { server in
            let scratch = Scratch()
            let socket = identity(server.socketPath)
            let started = try startedAt(server)
            let refused = try refusedStart(socket: server.socketPath, stateDirectory: scratch.directory + "/state",
                                           pinRoot: scratch.pinRoot, scratch: scratch)
            #expect(refused.status == 2)
            #expect(refused.log.contains("another process (pid \(server.pid)) listens on unix:\(server.socketPath)"), "\(refused.log)")
            try expectServing(server, socket: socket, startedAt: started)
        }
    }

    @Test func aSecondServerOnTheSameStateDirectoryRefuses() async throws {
        try await withServer { server in
            let scratch = Scratch()
            let socket = identity(server.socketPath)
            let started = try startedAt(server)
            let lockFile = try String(contentsOfFile: server.stateDirectory + "/bpfleetd.lock", encoding: .utf8)
            #expect(lockFile == "\(server.pid)\n")
            let otherSocket = scratch.directory + "/other.sock"
            let refused = try refusedStart(socket: otherSocket, stateDirectory: server.stateDirectory,
                                           pinRoot: scratch.pinRoot, scratch: scratch)
            #expect(refused.status == 2)
            #expect(refused.log.contains("the state directory \(server.stateDirectory) belongs to another bpfleetd (pid \(server.pid))"), "\(refused.log)")
            #expect(identity(otherSocket) == nil)
            try expectServing(server, socket: socket, startedAt: started)
        }
    }

    @Test func aSecondServerOnTheSamePinRootRefuses() async throws {
        try await withServer { server in
            let scratch = Scratch()
            let socket = identity(server.socketPath)
            let started = try startedAt(server)
            let otherSocket = scratch.directory + "/other.sock"
            let refused = try refusedStart(socket: otherSocket, stateDirectory: scratch.directory + "/state",
                                           pinRoot: server.pinRoot, scratch: scratch)
            #expect(refused.status == 2)
            #expect(refused.log.contains("the pin root \(server.pinRoot) belongs to another bpfleetd (pid \(server.pid))"), "\(refused.log)")
            #expect(identity(otherSocket) == nil)
            try expectServing(server, socket: socket, startedAt: started)
        }
    }

    @Test func aStaleSocketOfAKilledServerIsReplaced() async throws {
        try await withServer { server in
            let killed = identity(server.socketPath)
            server.terminate(signal: SIGKILL)
            // SIGKILL: no clean-up, the file stays and nobody listens on it.
            #expect(identity(server.socketPath) == killed)
            #expect(throws: TestFailure.self) { try server.client() }
            try server.restart()
            let replaced = identity(server.socketPath)
            #expect(replaced != nil)
            #expect(replaced != killed)
            #expect(try server.client().call("node.info")["startedAt"] != nil)
            #expect(identity(server.socketPath) == replaced)
        }
    }

    @Test func aStoppedServerRemovesItsSocket() async throws {
        try await withServer { server in
            #expect(identity(server.socketPath) != nil)
            server.terminate(signal: SIGTERM)
            #expect(server.process.terminationStatus == 0)
            #expect(identity(server.socketPath) == nil)
        }
    }

    @Test func aStoppedServerLeavesASocketFileSomeoneElsePutInItsPlace() async throws {
        try await withServer { server in
            // Someone moves the server's socket away and binds another at its path.
            #expect(rename(server.socketPath, server.socketPath + ".moved") == 0)
            let other = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            #expect(other >= 0)
            defer { close(other) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(server.socketPath.utf8).prefix(raw.count - 1))
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(other, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(bound == 0)
            let replacement = identity(server.socketPath)
            #expect(replacement != nil)

            server.terminate(signal: SIGTERM)
            #expect(server.process.terminationStatus == 0)
            #expect(identity(server.socketPath) == replacement)
            #expect(server.log.contains("the socket file is no longer the one bpfleetd bound (removed or replaced): left alone"))
        }
    }
}

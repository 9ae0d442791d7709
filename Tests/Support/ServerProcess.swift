import Foundation

/// A real bpfleetd on a temporary socket, state directory and pin root.
/// `stop()` ends it and removes every pin it left, so nothing it loaded
/// stays in the kernel, whatever the test did.
///
/// Run by root, it is started with exactly the arguments a test gives.
/// Run by another user (the tests that load nothing, `.requiresServer`),
/// a server given no `--roles` gets a roles file making that user an
/// operator: with none, bpfleetd lets in root alone (docs/security.md).
public final class ServerProcess: @unchecked Sendable {
    /// The capabilities the bpfleetds a task starts run with, as setpriv
    /// names them (`net_admin`): the only ones in its bounding, permitted
    /// and effective sets, none inheritable or ambient, still uid 0. Nil:
    /// the test runner's own. Set around a test to run it under a smaller
    /// set (LeastPrivilegeTests); `$BPFLEET_TEST_CAPABILITIES` (comma
    /// separated) does the same for a whole run.
    @TaskLocal public static var capabilities: [String]? =
        ProcessInfo.processInfo.environment["BPFLEET_TEST_CAPABILITIES"].map { $0.split(separator: ",").map(String.init) }

    public let directory: String
    public let socketPath: String
    public let stateDirectory: String
    public let pinRoot: String
    /// The running bpfleetd; `restart` replaces it.
    public private(set) var process: Process
    private let arguments: [String]
    private let capabilities: [String]?
    public var address: String { "unix:\(socketPath)" }
    public var pid: Int32 { process.processIdentifier }

    private init(directory: String, pinRoot: String, arguments: [String], capabilities: [String]?) {
        self.directory = directory
        self.socketPath = directory + "/bpfleetd.sock"
        self.stateDirectory = directory + "/state"
        self.pinRoot = pinRoot
        self.arguments = arguments
        self.capabilities = capabilities
        self.process = Process()
    }

    public static func start(_ extraArguments: [String] = [], directory existing: String? = nil,
                             pinRoot existingPinRoot: String? = nil,
                             capabilities: [String]? = ServerProcess.capabilities) throws -> ServerProcess {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let directory = existing ?? NSTemporaryDirectory() + "bpfleet-test-\(tag)"
        if existing == nil {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let pinRoot = existingPinRoot ?? "/sys/fs/bpf/bpfleet-test-\(tag)"
        var arguments = extraArguments
        if getuid() != 0, !arguments.contains("--roles") {
            try createFile(directory + "/own-roles.yaml", contents: Data("operators:\n  uids: [\(getuid())]\n".utf8))
            arguments += ["--roles", directory + "/own-roles.yaml"]
        }
        let server = ServerProcess(directory: directory, pinRoot: pinRoot, arguments: arguments, capabilities: capabilities)
        do {
            try createFile(directory + "/bpfleetd.log")
            try server.launch()
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    /// Starts a bpfleetd on this socket, state directory and pin root; the
    /// log of every run goes to one file.
    private func launch() throws {
        let process = Process()
        let command = [TestEnvironment.bpfleetd, "--listen", "unix:\(socketPath)", "--state-dir", stateDirectory,
                       "--pin-root", pinRoot, "--log-level", "debug"] + arguments
        // setpriv execs bpfleetd in its own process: the pid is bpfleetd's.
        let launcher = capabilities.map { capabilities in
            ["/usr/bin/setpriv", "--bounding-set", (["-all"] + capabilities.map { "+" + $0 }).joined(separator: ","),
             "--inh-caps", "-all", "--ambient-caps", "-all", "--"]
        } ?? []
        let invocation = launcher + command
        process.executableURL = URL(fileURLWithPath: invocation[0])
        process.arguments = Array(invocation.dropFirst())
        let ready = Pipe()
        process.standardOutput = ready
        let log = FileHandle(forWritingAtPath: directory + "/bpfleetd.log")
        log?.seekToEndOfFile()
        process.standardError = log
        self.process = process
        try process.run()
        // bpfleetd prints one line on stdout once it serves.
        let line = ready.fileHandleForReading.readLine(timeout: 20)
        guard line?.hasPrefix("bpfleetd ready") == true else {
            throw TestFailure("bpfleetd did not start: \(self.log)")
        }
    }

    /// Ends this bpfleetd with `signal` (SIGKILL: it cleans up nothing) if
    /// it still runs, and starts another on the same socket, state
    /// directory and pin root, as an operator's restart would. `stop()`
    /// then ends the new one and removes whatever either left.
    public func restart(after signal: Int32 = SIGTERM) throws {
        terminate(signal: signal)
        // A killed server leaves its socket file; the next one replaces it.
        try launch()
    }

    public var log: String {
        (try? String(contentsOfFile: directory + "/bpfleetd.log", encoding: .utf8)) ?? ""
    }

    /// Ends the server (SIGTERM, then SIGKILL after 5 s).
    public func terminate(signal: Int32 = SIGTERM) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Ends the server and removes its pins, socket and directories.
    public func stop(keepDirectory: Bool = false) {
        terminate()
        removePins()
        if !keepDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    public func removePins() {
        try? FileManager.default.removeItem(atPath: pinRoot)
    }

    /// Files under the pin root, relative to it.
    public func pins() -> [String] {
        (FileManager.default.enumerator(atPath: pinRoot)?.allObjects as? [String] ?? []).sorted()
    }

    /// How many descriptors the server holds now.
    public func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// What each open descriptor is (`fd -> target`), for a failure's message.
    public func descriptorNames() -> [String] {
        let directory = "/proc/\(pid)/fd"
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return fds.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.map { fd in
            "\(fd) -> \((try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + fd)) ?? "?")"
        }
    }
}

/// Starts a server for `body` and always stops it, even when `body` throws.
public func withServer<T>(_ extraArguments: [String] = [], _ body: (ServerProcess) async throws -> T) async throws -> T {
    let server = try ServerProcess.start(extraArguments)
    defer { server.stop() }
    return try await body(server)
}

extension FileHandle {
    /// One line from a pipe, or nil at end of file or after `timeout` seconds.
    public func readLine(timeout: TimeInterval) -> String? {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var poller = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        while Date() < deadline {
            guard poll(&poller, 1, 100) > 0 else { continue }
            var byte: UInt8 = 0
            guard Glibc.read(fileDescriptor, &byte, 1) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }
}

extension ServerProcess {
    /// The server's resident memory now, in bytes (VmRSS).
    public func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return -1 }
        return kilobytes * 1024
    }
}

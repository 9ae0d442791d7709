import BpfleetShared
import Foundation

/// Runs a command to completion; returns its exit status and output.
@discardableResult
public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                standardInput: String? = nil) throws -> (status: Int32, stdout: Data, stderr: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let standardInput {
        guard let input = FileHandle(forReadingAtPath: standardInput) else { throw TestFailure("cannot open \(standardInput)") }
        process.standardInput = input
    }
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

/// What one run of the `bpfleet` command line printed, and how it ended.
public struct Invocation: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// stdout as one JSON value (`-o json`), nil when it is not one.
    public var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(stdout.utf8)) }
}

/// The environments the tests run `bpfleet` in.
public enum CommandEnvironment {
    /// This process's environment without the variables that would pick
    /// nodes or a configuration for the command (`BPFLEET_NODE`,
    /// `BPFLEET_INVENTORY`, `BPFLEET_CONFIG`); `home` replaces HOME (so
    /// that no ~/.config/bpfleet/config.yaml is read).
    public static func isolated(home: String? = nil) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["BPFLEET_NODE"] = nil
        environment["BPFLEET_INVENTORY"] = nil
        environment["BPFLEET_CONFIG"] = nil
        if let home { environment["HOME"] = home }
        return environment
    }

    /// Nothing but a HOME without a bpfleet configuration and a PATH: a
    /// user's login as another uid would see no more.
    public static let minimal = ["HOME": "/tmp", "PATH": "/usr/bin:/bin"]
}

/// The one way the tests run the `bpfleet` command line: with `arguments`,
/// and as `uid` (its gid the same, no supplementary groups, by setpriv)
/// when one is given; in `environment`, by default
/// `CommandEnvironment.isolated()`, or `.minimal` for another uid.
public func bpfleet(_ arguments: [String], environment: [String: String]? = nil, as uid: UInt32? = nil,
                    standardInput: String? = nil) throws -> Invocation {
    let result: (status: Int32, stdout: Data, stderr: Data)
    if let uid {
        let environment = environment ?? CommandEnvironment.minimal
        result = try run("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", TestEnvironment.bpfleet] + arguments,
                         environment: environment)
    } else {
        result = try run(TestEnvironment.bpfleet, arguments, environment: environment ?? CommandEnvironment.isolated(),
                         standardInput: standardInput)
    }
    return Invocation(status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self),
                      stderr: String(decoding: result.stderr, as: UTF8.self))
}

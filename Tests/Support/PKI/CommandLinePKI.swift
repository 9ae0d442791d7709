import Foundation

/// Certificates made by `bpfleet cert`, the route docs/security.md gives
/// people, for the end-to-end tests of mutual TLS: a CA, a node
/// certificate for 127.0.0.1, client certificates (ops, watcher, an
/// expired one named old), one from a foreign CA, and a roles file
/// (operators: ops and old; viewers: watcher). The client unit
/// tests' `TestPKI` (ClientTests/Support) makes theirs with the same code,
/// without the command line.
public struct CommandLinePKI: Sendable {
    public var directory: String
    public var ca: String { directory + "/ca/ca.pem" }
    public var roles: String { directory + "/roles.yaml" }

    /// `--cert` and `--key` for a client certificate made here.
    public func cert(_ name: String) -> [String] { ["--cert", "\(directory)/\(name).pem", "--key", "\(directory)/\(name)-key.pem"] }

    /// Makes them all in a new temporary directory.
    public static func make() throws -> CommandLinePKI {
        let directory = try temporaryDirectory("pki")
        func cert(_ arguments: [String]) throws {
            let result = try run(TestEnvironment.bpfleet, ["cert"] + arguments)
            guard result.status == 0 else { throw TestFailure("bpfleet cert \(arguments): \(String(decoding: result.stderr, as: UTF8.self))") }
        }
        try cert(["ca", "--out", directory + "/ca"])
        try cert(["ca", "--out", directory + "/foreign", "--name", "someone else's CA"])
        try cert(["node", "--ca", directory + "/ca", "--name", "node", "--san", "127.0.0.1", "--out", directory])
        try cert(["client", "--ca", directory + "/ca", "--name", "ops", "--out", directory])
        try cert(["client", "--ca", directory + "/ca", "--name", "watcher", "--out", directory])
        try cert(["client", "--ca", directory + "/ca", "--name", "old", "--backdate-days", "10", "--days", "5", "--out", directory])
        try cert(["client", "--ca", directory + "/foreign", "--name", "ops", "--out", directory + "/foreign"])
        try """
        operators:
          commonNames: [ops, old]
        viewers:
          subjects: ["CN=watcher"]
        """.write(toFile: directory + "/roles.yaml", atomically: true, encoding: .utf8)
        return CommandLinePKI(directory: directory)
    }
}

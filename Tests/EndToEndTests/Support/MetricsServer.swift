import Foundation
import TestSupport

/// Runs `body` with a bpfleetd serving metrics on a free loopback port
/// (`--metrics-listen tcp://127.0.0.1:PORT`, and `extra`), stopped after;
/// another port when the one picked was taken.
func withMetricsServer(_ extra: [String] = [], _ body: (ServerProcess, UInt16) async throws -> Void) async throws {
    var lastError: (any Error)?
    for _ in 0..<5 {
        let port = UInt16.random(in: 20_000...40_000)
        let server: ServerProcess
        do {
            server = try ServerProcess.start(["--metrics-listen", "tcp://127.0.0.1:\(port)"] + extra)
        } catch {
            lastError = error  // the port was taken: another one
            continue
        }
        defer { server.stop() }
        try await body(server, port)
        return
    }
    throw lastError ?? TestFailure("no port")
}

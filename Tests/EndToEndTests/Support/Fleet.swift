import BpfleetShared
import Foundation
import TestSupport

/// Twenty real bpfleetd processes, each on its own socket, state directory
/// and pin root, and an inventory naming them `node-00` … `node-19` with
/// labels: `role` web (even) or db (odd), `zone` a, b, c (index mod 3), and
/// `gpu: "yes"` on every fifth. `stop()` ends them all and removes their pins.
final class Fleet: @unchecked Sendable {
    let servers: [ServerProcess]
    let directory: String
    let inventory: String

    static let size = 20

    static func labels(_ index: Int) -> [String: String] {
        var labels = ["role": index % 2 == 0 ? "web" : "db", "zone": ["a", "b", "c"][index % 3]]
        if index % 5 == 0 { labels["gpu"] = "yes" }
        return labels
    }

    static func name(_ index: Int) -> String { String(format: "node-%02d", index) }

    static func start(count: Int = size) throws -> Fleet {
        var servers: [ServerProcess] = []
        do {
            for _ in 0..<count { servers.append(try ServerProcess.start()) }
        } catch {
            for server in servers { server.stop() }
            throw error
        }
        let directory = NSTemporaryDirectory() + "bpfleet-fleet-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            for server in servers { server.stop() }
            throw error
        }
        var yaml = "nodes:\n"
        for (index, server) in servers.enumerated() {
            let labels = labels(index).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            yaml += "  - name: \(name(index))\n    address: \(server.address)\n    labels: {\(labels)}\n"
        }
        let fleet = Fleet(servers: servers, directory: directory, inventory: directory + "/inventory.yaml")
        do {
            try createFile(fleet.inventory, contents: Data(yaml.utf8))
        } catch {
            fleet.stop()
            throw error
        }
        return fleet
    }

    private init(servers: [ServerProcess], directory: String, inventory: String) {
        self.servers = servers
        self.directory = directory
        self.inventory = inventory
    }

    func stop() {
        for server in servers { server.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Writes a manifest into the fleet's directory; returns its path.
    func manifest(_ text: String, named name: String = "probe.yaml") throws -> String {
        let path = directory + "/" + name
        try createFile(path, contents: Data(text.utf8))
        return path
    }

    /// `bpfleet --inventory INVENTORY ARGS...`, HOME the fleet's directory
    /// (no ~/.config/bpfleet/config.yaml).
    func bpfleet(_ arguments: [String], standardInput: String? = nil) throws -> Invocation {
        try TestSupport.bpfleet(["--inventory", inventory] + arguments, environment: CommandEnvironment.isolated(home: directory),
                                standardInput: standardInput)
    }

    /// One JSON value per line of ndjson output.
    static func lines(_ text: String) throws -> [JSONValue] {
        try text.split(separator: "\n").map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }
}

func withFleet<T>(count: Int = Fleet.size, _ body: (Fleet) async throws -> T) async throws -> T {
    let fleet = try Fleet.start(count: count)
    defer { fleet.stop() }
    return try await body(fleet)
}

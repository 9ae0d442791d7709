@testable import BpfleetClient
import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Inventory files: the config file's node part in a file of its own,
/// read by the same code, joined to the config's nodes.
@Suite("inventories")
struct InventoryTests {
    let pki: TestPKI
    /// No config file is found through this environment.
    let clean = ["HOME": "/nonexistent-bpfleet-home"]

    init() throws {
        pki = try TestPKI()
        try pki.client("alice")
        try pki.client("bob")
        try pki.client("carol")
    }

    /// Writes a file into the test's directory; its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = pki.directory + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func error(_ body: () throws -> Any?) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("nodes with labels; the inventory's defaults fill in what a node leaves out, paths relative to the inventory")
    func parse() throws {
        let file = "/srv/fleet/inventory.yaml"
        let inventory = try Inventory(yaml: """
            defaults:
              ca: pki/ca.pem
              cert: pki/alice.pem
              key: pki/alice-key.pem
              serverName: fleet.internal
            nodes:
              - name: web-1
                address: tcp://10.0.0.5
                labels: {role: web, example.com/zone: a}
              - name: db-1
                address: tcp://10.0.0.9:7000
                labels: {role: db}
                cert: /keys/bob.pem
                key: ~/bob-key.pem
                serverName: db.internal
              - {name: lab, address: "tcp://127.0.0.1:9000", insecurePlaintext: true}
            """, file: file, home: "/home/alice")
        #expect(inventory.file == file)
        #expect(inventory.nodes.map(\.name) == ["web-1", "db-1", "lab"])
        #expect(inventory.nodes.map(\.line) == [7, 10, 16])
        #expect(inventory.nodes.map(\.origin) == Array(repeating: "inventory \(file)", count: 3))

        let web = inventory.nodes[0]
        #expect(web.address == .tcp(host: "10.0.0.5", port: 7447))
        #expect(web.labels == ["role": "web", "example.com/zone": "a"])
        #expect(web.settings.ca == CredentialFile(path: "/srv/fleet/pki/ca.pem", origin: "inventory \(file) line 2"))
        #expect(web.settings.cert == CredentialFile(path: "/srv/fleet/pki/alice.pem", origin: "inventory \(file) line 3"))
        #expect(web.settings.key?.path == "/srv/fleet/pki/alice-key.pem")
        #expect(web.settings.serverName == "fleet.internal")

        // Its own certificate and key, as a pair; the CA still the defaults'.
        let db = inventory.nodes[1]
        #expect(db.settings.cert == CredentialFile(path: "/keys/bob.pem", origin: "inventory \(file) line 13"))
        #expect(db.settings.key?.path == "/home/alice/bob-key.pem")
        #expect(db.settings.ca?.path == "/srv/fleet/pki/ca.pem")
        #expect(db.settings.serverName == "db.internal")
        #expect(inventory.nodes[2].settings.insecurePlaintext == Located(true, line: 16))

        #expect(try Inventory(yaml: "", file: file).nodes.isEmpty)
    }

    @Test("mistakes name the inventory and the line")
    func mistakes() {
        let file = "/srv/fleet/inventory.yaml"
        func failure(_ yaml: String) -> String? {
            error { try Inventory(yaml: yaml, file: file) }
        }
        #expect(failure("defaults: {timeout: 3}\n")
            == "inventory \(file) line 1: unknown key 'timeout' in defaults (known: ca, cert, key, serverName, insecurePlaintext)")
        #expect(failure("defaultNodes: [a]\n")
            == "inventory \(file) line 1: unknown key 'defaultNodes' in the file (known: defaults, nodes)")
        #expect(failure("nodes:\n  - {name: a, address: tcp://x}\n  - {name: a, address: tcp://y}\n")
            == "inventory \(file) line 3: a second node named 'a' (the first is at line 2)")
        #expect(failure("nodes:\n  - name: a\n    address: tcp://x\n    labels:\n      Role Name: web\n")
            == "inventory \(file) line 5: 'Role Name' is not a valid label key: only letters, digits, '-', '_' and '.' are allowed")
        #expect(failure("nodes:\n  - name: a\n    address: tcp://x\n    labels: {role: web server}\n")
            == "inventory \(file) line 4: label 'role': 'web server' is not a valid label value: only letters, digits, '-', '_' and '.' are allowed")
        #expect(failure("nodes:\n  - {name: a, address: tcp://x, cert: a.pem}\n")
            == "inventory \(file) line 2: cert without key: a certificate and its key go together")
        #expect(failure("nodes:\n - name: a\n  - name: b\n")?.hasPrefix("inventory \(file) line 3: not valid YAML: ") == true)
    }

    @Test("the config's nodes first, then the inventory's; a name in both is an error naming both places")
    func merging() throws {
        let inventory = try write("fleet/inventory.yaml", """
            nodes:
              - {name: web-2, address: "tcp://10.0.0.6", labels: {role: web}}
              - {name: db-1, address: "tcp://10.0.0.9", labels: {role: db}}
            """)
        let config = try write("config.yaml", """
            inventory: fleet/inventory.yaml
            defaultNodes: [db-1]
            nodes:
              - {name: web-1, address: "tcp://10.0.0.5", labels: {role: web}}
            """)
        let loaded = try #require(try ConfigFile.load(flag: config, environment: clean))
        #expect(loaded.inventory == Located(inventory, line: 1))
        #expect(loaded.inventoryFile == inventory)
        #expect(loaded.nodes.map(\.name) == ["web-1", "web-2", "db-1"])
        #expect(loaded.nodes.map(\.origin) == ["config \(config)", "inventory \(inventory)", "inventory \(inventory)"])

        let clash = try write("clash.yaml", """
            nodes:
              - {name: db-1, address: "tcp://10.0.0.9"}
              - {name: web-1, address: "tcp://10.0.0.7"}
            """)
        #expect(error { try ConfigFile.load(flag: config, inventory: clash, environment: clean) }
            == "inventory \(clash) line 3: node 'web-1' is also named at config \(config) line 4: a name must be given once")
    }

    @Test("which inventory: --inventory, else $BPFLEET_INVENTORY, else the config's inventory key")
    func which() throws {
        let keyed = try write("keyed.yaml", "nodes: [{name: from-key, address: 'unix:/tmp/k.sock'}]\n")
        let variable = try write("variable.yaml", "nodes: [{name: from-variable, address: 'unix:/tmp/v.sock'}]\n")
        let flagged = try write("flagged.yaml", "nodes: [{name: from-flag, address: 'unix:/tmp/f.sock'}]\n")
        let config = try write("which.yaml", "inventory: keyed.yaml\n")
        let withVariable = clean.merging(["BPFLEET_INVENTORY": variable]) { $1 }

        func names(_ flag: String?, _ environment: [String: String]) throws -> [String] {
            try ConfigFile.load(flag: config, inventory: flag, environment: environment)?.nodes.map(\.name) ?? []
        }
        #expect(try names(nil, clean) == ["from-key"])
        #expect(try names(nil, withVariable) == ["from-variable"])
        #expect(try names(flagged, withVariable) == ["from-flag"])
        _ = keyed

        // Without a config file, the inventory alone.
        let alone = try #require(try ConfigFile.load(flag: nil, inventory: flagged, environment: clean))
        #expect(alone.file == "")
        #expect(alone.nodes.map(\.name) == ["from-flag"])
        #expect(try ConfigFile.load(flag: nil, environment: clean) == nil)

        let missing = pki.directory + "/missing.yaml"
        #expect(error { try ConfigFile.load(flag: nil, inventory: missing, environment: clean) }
            == "inventory \(missing): cannot read it (named by --inventory): No such file or directory")
        #expect(error { try ConfigFile.load(flag: nil, environment: clean.merging(["BPFLEET_INVENTORY": missing]) { $1 }) }
            == "inventory \(missing): cannot read it (named by $BPFLEET_INVENTORY): No such file or directory")
        let dangling = try write("dangling.yaml", "\n\ninventory: missing.yaml\n")
        #expect(error { try ConfigFile.load(flag: dangling, environment: clean) }
            == "inventory \(missing): cannot read it (named by config \(dangling) line 3): No such file or directory")
    }

    @Test("defaultNodes may name the inventory's nodes; a name in neither is an error")
    func defaultNodes() throws {
        let inventory = try write("defaults-inventory.yaml", "nodes: [{name: web-2, address: 'unix:/tmp/w.sock'}]\n")
        let config = try write("defaults-config.yaml", "defaultNodes: [web-2, unix:/tmp/x.sock]\n")
        let loaded = try #require(try ConfigFile.load(flag: config, inventory: inventory, environment: clean))
        #expect(loaded.defaultNodes.map(\.value) == ["web-2", "unix:/tmp/x.sock"])
        #expect(error { try ConfigFile.load(flag: config, environment: clean) }
            == "config \(config) line 1: defaultNodes names 'web-2', which is neither a node in this file nor an address")
        let other = try write("other-inventory.yaml", "nodes: []\n")
        #expect(error { try ConfigFile.load(flag: config, inventory: other, environment: clean) }
            == "config \(config) line 1: defaultNodes names 'web-2', which is neither a node in this file or inventory \(other) nor an address")
    }

    @Test("defaultSelector: checked when the config is read, not with defaultNodes")
    func defaultSelector() throws {
        let file = "/home/alice/.config/bpfleet/config.yaml"
        let config = try ClientConfig(yaml: "defaultSelector: \"role=web, zone notin (b)\"\n", file: file)
        #expect(config.defaultSelector == Located("role=web, zone notin (b)", line: 1))
        #expect(error { try ClientConfig(yaml: "nodes: []\ndefaultSelector: \"zone in b\"\n", file: file) }
            == "config \(file) line 2: defaultSelector 'zone in b': column 9: expected '(' after in, found 'b'")
        #expect(error { try ClientConfig(yaml: "defaultNodes: [a]\ndefaultSelector: role=web\n", file: file) }
            == "config \(file) line 2: defaultSelector and defaultNodes (line 1) both say which nodes to use: keep one")
    }

    @Test("an inventory node's credentials: flags, its entry, the inventory's defaults, the config's defaults")
    func credentials() throws {
        let inventory = try write("credentials-inventory.yaml", """
            defaults: {cert: bob.pem, key: bob-key.pem}
            nodes:
              - {name: web-1, address: "tcp://10.0.0.5", labels: {role: web}}
              - {name: web-2, address: "tcp://10.0.0.6", labels: {role: web}, cert: carol.pem, key: carol-key.pem}
              - {name: lab, address: "tcp://127.0.0.1:9000", insecurePlaintext: true}
            """)
        let config = try write("credentials-config.yaml", """
            defaults: {ca: ca.pem, cert: alice.pem, key: alice-key.pem}
            nodes:
              - {name: own, address: "tcp://10.0.0.4"}
            """)
        let loaded = try ConfigFile.load(flag: config, inventory: inventory, environment: clean)
        func certificates(_ choice: NodeChoice) throws -> [String?] {
            try NodeTargets.resolve(choice, config: loaded, environment: clean).map { target in
                guard case .tls(let credentials, _) = target.security else { return nil }
                return credentials.certificate.map { ($0.path as NSString).lastPathComponent }
            }
        }
        #expect(try certificates(NodeChoice(nodes: ["own", "web-1", "web-2", "lab"])) == ["alice.pem", "bob.pem", "carol.pem", nil])
        #expect(try certificates(NodeChoice(nodes: ["web-1"], cert: pki.path("alice"), key: pki.keyPath("alice"))) == ["alice.pem"])

        // Plaintext set in the inventory is named by its file and line.
        let refused = NodeChoice(nodes: ["lab"])
        var moved = try #require(loaded)
        moved.nodes[3].address = .tcp(host: "10.0.0.7", port: 9000)
        #expect(error { try NodeTargets.resolve(refused, config: moved, environment: clean) }
            == "insecurePlaintext (inventory \(inventory) line 5) reaches only loopback addresses, and node lab (tcp://10.0.0.7:9000) is not on one: use TLS (--ca, --cert, --key)")
    }
}

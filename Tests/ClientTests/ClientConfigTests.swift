@testable import BpfleetClient
import BpfleetShared
import Testing

@Suite("the config file")
struct ClientConfigTests {
    let file = "/home/alice/.config/bpfleet/config.yaml"

    func parse(_ yaml: String) throws(ConfigError) -> ClientConfig {
        try ClientConfig(yaml: yaml, file: file, home: "/home/alice")
    }

    func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch {
            return error
        }
    }

    @Test("defaults, named nodes with labels and their own settings")
    func full() throws {
        let config = try parse("""
            defaults: {ca: /etc/bpfleet/ca.pem, cert: alice.pem, key: ~/keys/alice-key.pem, timeout: 2.5, concurrency: 8}
            defaultNodes: [web-1, unix:/tmp/local.sock]
            nodes:
              - name: web-1
                address: tcp://10.0.0.5:7447
                labels: {role: web, zone: a}
              - name: db-1
                address: tcp://[fd00::7]
                ca: db/ca.pem
                cert: db/alice.pem
                key: db/alice-key.pem
                serverName: db-1.internal
              - name: lab
                address: tcp://127.0.0.1:9000
                insecurePlaintext: true
            """)
        #expect(config.defaults.ca == CredentialFile(path: "/etc/bpfleet/ca.pem", origin: "config \(file) line 1"))
        #expect(config.defaults.cert?.path == "/home/alice/.config/bpfleet/alice.pem")
        #expect(config.defaults.key?.path == "/home/alice/keys/alice-key.pem")
        #expect(config.timeout == 2.5)
        #expect(config.concurrency == 8)
        #expect(config.defaultNodes == [Located("web-1", line: 2), Located("unix:/tmp/local.sock", line: 2)])
        #expect(config.nodes.map(\.name) == ["web-1", "db-1", "lab"])
        #expect(config.nodes.map(\.line) == [4, 7, 13])

        let web = try #require(config.node(named: "web-1"))
        #expect(web.address == .tcp(host: "10.0.0.5", port: 7447))
        #expect(web.labels == ["role": "web", "zone": "a"])
        #expect(web.settings == NodeSettings())

        let db = try #require(config.node(named: "db-1"))
        #expect(db.address == .tcp(host: "fd00::7", port: 7447))
        #expect(db.settings.ca == CredentialFile(path: "/home/alice/.config/bpfleet/db/ca.pem", origin: "config \(file) line 9"))
        #expect(db.settings.cert?.path == "/home/alice/.config/bpfleet/db/alice.pem")
        #expect(db.settings.serverName == "db-1.internal")

        #expect(config.node(named: "lab")?.settings.insecurePlaintext == Located(true, line: 15))
        #expect(config.node(at: .tcp(host: "10.0.0.5", port: 7447))?.name == "web-1")
        #expect(config.node(named: "web-2") == nil)
    }

    @Test("an empty file is an empty config")
    func empty() throws {
        let config = try parse("")
        #expect(config.nodes.isEmpty)
        #expect(config.defaults == NodeSettings())
        #expect(config.timeout == nil)
    }

    @Test("YAML that does not parse names the file and the line")
    func badYAML() {
        let failure = error("""
            nodes:
              - name: a
                address: tcp://x
               - name: b
            """)
        #expect(failure?.file == file)
        #expect(failure?.line == 4)
        #expect(failure?.description.hasPrefix("config \(file) line 4: not valid YAML: ") == true)

        #expect(error("defaults: {ca: x\n")?.line == 2)
        #expect(error("nodes:\n  - name: a\n    name: b\n")?.description
            == "config \(file) line 2: 'name' given twice in the same mapping")
    }

    @Test("mistakes name their line: unknown keys, wrong kinds, missing parts")
    func mistakes() {
        #expect(error("defaults:\n  ca: x\n  cafile: y\n")?.description
            == "config \(file) line 3: unknown key 'cafile' in defaults (known: ca, cert, key, timeout, concurrency, insecurePlaintext)")
        #expect(error("node:\n  - name: a\n")?.description
            == "config \(file) line 1: unknown key 'node' in the file (known: defaults, defaultNodes, defaultSelector, inventory, nodes)")
        #expect(error("defaults: {timeout: soon}\n")?.description
            == "config \(file) line 1: timeout must be a positive number of seconds")
        #expect(error("nodes:\n  - name: a\n")?.description == "config \(file) line 2: node 'a' needs an address")
        #expect(error("nodes:\n  - address: tcp://x\n")?.description == "config \(file) line 2: a node needs a name")
        #expect(error("nodes:\n  - name: a\n    address: tcp://x:99999\n")?.description
            == "config \(file) line 3: invalid address 'tcp://x:99999': port must be 1-65535")
        #expect(error("nodes:\n  - name: a b\n    address: tcp://x\n")?.line == 2)
        #expect(error("nodes: {a: 1}\n")?.description
            == "config \(file) line 1: nodes must be a list (lines starting with '- ', or [a, b])")
        #expect(error("nodes:\n  - {name: a, address: tcp://x, cert: a.pem}\n")?.description
            == "config \(file) line 2: cert without key: a certificate and its key go together")
        #expect(error("nodes:\n  - {name: a, address: tcp://x}\n  - {name: a, address: tcp://y}\n")?.description
            == "config \(file) line 3: a second node named 'a' (the first is at line 2)")
        // Checked once an inventory's nodes have joined (InventoryTests).
        #expect(throws: ConfigError(file: file, line: 1, "defaultNodes names 'web-9', which is neither a node in this file nor an address")) {
            try parse("defaultNodes: [web-9]\n").checkDefaultNodes()
        }
        #expect(error("nodes:\n  - {name: a, address: tcp://x, insecurePlaintext: maybe}\n")?.description
            == "config \(file) line 2: insecurePlaintext must be true or false")
    }

    @Test("which file: --config, then $BPFLEET_CONFIG, then the XDG or home default")
    func location() {
        #expect(ConfigFile.path(flag: "/a.yaml", environment: ["BPFLEET_CONFIG": "/b.yaml"])! == ("/a.yaml", true))
        #expect(ConfigFile.path(flag: nil, environment: ["BPFLEET_CONFIG": "/b.yaml", "HOME": "/h"])! == ("/b.yaml", true))
        #expect(ConfigFile.path(flag: nil, environment: ["HOME": "/h"])! == ("/h/.config/bpfleet/config.yaml", false))
        #expect(ConfigFile.path(flag: nil, environment: ["HOME": "/h", "XDG_CONFIG_HOME": "/x"])! == ("/x/bpfleet/config.yaml", false))
    }

    @Test("a missing default file is no config; a named one that is missing is an error")
    func missingFiles() throws {
        #expect(try ConfigFile.load(flag: nil, environment: ["HOME": "/nonexistent-bpfleet-home"]) == nil)
        #expect(throws: ConfigError(file: "/nonexistent-bpfleet.yaml", line: nil, "cannot read it: No such file or directory")) {
            try ConfigFile.load(flag: nil, environment: ["BPFLEET_CONFIG": "/nonexistent-bpfleet.yaml"])
        }
    }
}

@testable import BpfleetClient
import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Which nodes a command runs on and with which credentials: flags over
/// the node's config entry over the config's defaults.
@Suite("nodes and credentials")
struct NodeTargetsTests {
    let pki: TestPKI
    let config: ClientConfig
    /// No config file is found through this environment.
    let clean = ["HOME": "/nonexistent-bpfleet-home"]

    init() throws {
        pki = try TestPKI()
        try pki.client("alice")
        try pki.client("bob")
        try pki.client("carol")
        config = try ClientConfig(yaml: """
            defaults: {ca: ca.pem, cert: alice.pem, key: alice-key.pem}
            defaultNodes: [web-1, db-1]
            nodes:
              - {name: web-1, address: "tcp://10.0.0.5:7447", labels: {role: web}}
              - {name: db-1, address: "tcp://10.0.0.6:7447", cert: bob.pem, key: bob-key.pem, serverName: db.internal}
              - {name: lab, address: "tcp://127.0.0.1:9000", insecurePlaintext: true}
              - {name: local, address: "unix:/tmp/local.sock"}
            """, file: pki.directory + "/config.yaml")
    }

    func resolve(_ choice: NodeChoice = NodeChoice(), config: ClientConfig? = nil,
                 environment: [String: String]? = nil) throws(UsageError) -> [NodeTarget] {
        try NodeTargets.resolve(choice, config: config, environment: environment ?? clean)
    }

    /// The client certificate a target would present, by file name.
    func certificate(_ target: NodeTarget) -> String? {
        guard case .tls(let credentials, _) = target.security else { return nil }
        return credentials.certificate.map { ($0.path as NSString).lastPathComponent }
    }

    func serverName(_ target: NodeTarget) -> String? {
        guard case .tls(_, let serverName) = target.security else { return nil }
        return serverName
    }

    func error(_ body: () throws -> [NodeTarget]) -> String? {
        do {
            _ = try body()
            return nil
        } catch let error as UsageError {
            return error.description
        } catch {
            return "not a UsageError: \(error)"
        }
    }

    @Test("-n wins, then $BPFLEET_NODE, then the config's defaultNodes, then the local socket")
    func whichNodes() throws {
        #expect(try resolve().map(\.address) == [.unix(path: "/run/bpfleet/bpfleetd.sock")])
        #expect(try resolve(config: config).map(\.description) == ["web-1", "db-1"])
        let environment = ["BPFLEET_NODE": "unix:/tmp/a.sock, local"]
        #expect(try resolve(config: config, environment: environment).map(\.description) == ["unix:/tmp/a.sock", "local"])
        #expect(try resolve(NodeChoice(nodes: ["lab", "unix:/tmp/b.sock"]), config: config, environment: environment)
            .map(\.address) == [.tcp(host: "127.0.0.1", port: 9000), .unix(path: "/tmp/b.sock")])
    }

    @Test("a name from the config or an address; an address there takes the node's name and settings")
    func namesAndAddresses() throws {
        let targets = try resolve(NodeChoice(nodes: ["db-1", "tcp://10.0.0.6", "local"]), config: config)
        #expect(targets.map(\.name) == ["db-1", "db-1", "local"])
        #expect(targets.map(certificate) == ["bob.pem", "bob.pem", nil])
        #expect(targets[2].security == nil)

        #expect(error { try resolve(NodeChoice(nodes: ["web-9"]), config: config) }
            == "-n web-9: no node named 'web-9' in config \(config.file), and not an address (unix:/PATH or tcp://HOST[:PORT])")
        #expect(error { try resolve(NodeChoice(nodes: ["web-9"])) }
            == "-n web-9: invalid address 'web-9': expected unix:/PATH or tcp://HOST[:PORT] (or a node name, once a config file names nodes: see docs/security.md)")
        #expect(error { try resolve(environment: ["BPFLEET_NODE": "web1"]) }?.hasPrefix("BPFLEET_NODE web1: invalid address") == true)
    }

    @Test("credentials: flags, else the node's own, else the defaults; a certificate and its key together")
    func credentialPrecedence() throws {
        let web = try resolve(NodeChoice(nodes: ["web-1", "db-1"]), config: config)
        #expect(web.map(certificate) == ["alice.pem", "bob.pem"])
        #expect(web.map(serverName) == [nil, "db.internal"])

        let flagged = try resolve(NodeChoice(nodes: ["web-1", "db-1"], cert: pki.path("carol"), key: pki.keyPath("carol"),
                                             serverName: "fleet.internal"), config: config)
        #expect(flagged.map(certificate) == ["carol.pem", "carol.pem"])
        #expect(flagged.map(serverName) == ["fleet.internal", "fleet.internal"])

        // Only --ca given: the CA changes, the certificate stays the config's.
        let caOnly = try resolve(NodeChoice(nodes: ["db-1"], ca: pki.path("foreign-ca")), config: config)
        guard case .tls(let credentials, _) = caOnly[0].security else { Issue.record("no TLS"); return }
        #expect(credentials.authority == CredentialFile(path: pki.path("foreign-ca"), origin: "--ca"))
        #expect(credentials.certificate?.path == pki.path("bob"))
        #expect(credentials.certificate?.origin == "config \(config.file) line 5")

        // Without any config: flags alone.
        let bare = try resolve(NodeChoice(nodes: ["tcp://10.0.0.9"], ca: pki.path("ca"), cert: pki.path("alice"), key: pki.keyPath("alice")))
        #expect(bare.map(certificate) == ["alice.pem"])
        #expect(bare[0].name == nil)
    }

    @Test("plain TCP only when asked, and only to loopback")
    func plaintext() throws {
        let lab = try resolve(NodeChoice(nodes: ["lab"]), config: config)
        guard case .insecurePlaintext = lab[0].security else { Issue.record("lab is not plaintext"); return }
        let asked = try resolve(NodeChoice(nodes: ["tcp://[::1]:7000"], insecurePlaintext: true))
        guard case .insecurePlaintext = asked[0].security else { Issue.record("not plaintext"); return }

        #expect(error { try resolve(NodeChoice(nodes: ["web-1"], insecurePlaintext: true), config: config) }
            == "--insecure-plaintext reaches only loopback addresses, and node web-1 (tcp://10.0.0.5:7447) is not on one: use TLS (--ca, --cert, --key)")
        #expect(error { try resolve(NodeChoice(nodes: ["tcp://10.0.0.5"])) }
            == "node tcp://10.0.0.5:7447 needs TLS: give --ca FILE --cert FILE --key FILE, or ca/cert/key in the config file (see docs/security.md); plain TCP only with --insecure-plaintext, to a loopback address")
        #expect(error { try resolve(NodeChoice(nodes: ["tcp://10.0.0.5"], cert: pki.path("alice"), key: pki.keyPath("alice"))) }?
            .hasPrefix("node tcp://10.0.0.5:7447 needs TLS: give --ca FILE (the CA that signed the node's certificate)") == true)
    }

    @Test("files that cannot be used are named with the setting that named them")
    func unusableFiles() throws {
        let missing = pki.directory + "/missing.pem"
        #expect(error { try resolve(NodeChoice(nodes: ["tcp://10.0.0.5"], ca: missing)) }
            == "cannot read the CA file \(missing) (--ca): No such file or directory")
        #expect(error { try resolve(NodeChoice(nodes: ["tcp://10.0.0.5"], ca: pki.path("ca"), cert: pki.path("alice"), key: pki.keyPath("bob"))) }
            == "the key \(pki.keyPath("bob")) does not match the certificate \(pki.path("alice")): they were not made together")
        #expect(error { try resolve(NodeChoice(nodes: ["tcp://10.0.0.5"], ca: pki.keyPath("alice"))) }
            == "the CA file \(pki.keyPath("alice")) (--ca) holds no PEM certificate")
        #expect(error { try resolve(NodeChoice(nodes: ["tcp://10.0.0.5"], ca: pki.path("ca"), cert: pki.path("alice"), key: pki.path("alice"))) }
            == "the key file \(pki.path("alice")) (--key) holds no usable PEM private key (an encrypted key must be decrypted first)")
        // A node that is not asked for is not loaded.
        var broken = config
        broken.nodes[1].settings.ca = CredentialFile(path: missing, origin: "config line 5")
        #expect(try resolve(NodeChoice(nodes: ["web-1"]), config: broken).count == 1)
    }

    @Test("timeout and concurrency: flag, else config, else built in; connect timeout and retries: flag, else built in")
    func fanOutSettings() throws {
        let configPath = pki.directory + "/fanout.yaml"
        try "defaults: {timeout: 2.5, concurrency: 3}\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        let fromConfig = try GlobalOptions.parse(["--config", configPath]).plan(environment: clean)
        #expect(fromConfig.fanOut.timeout == .milliseconds(2500))
        #expect(fromConfig.fanOut.concurrency == 3)
        let fromFlags = try GlobalOptions.parse(["--config", configPath, "--timeout", "1", "--concurrency", "9",
                                                 "--connect-timeout", "0.25", "--retries", "0"]).plan(environment: clean)
        #expect(fromFlags.fanOut.timeout == .seconds(1))
        #expect(fromFlags.fanOut.concurrency == 9)
        #expect(fromFlags.fanOut.connectTimeout == .milliseconds(250))
        #expect(fromFlags.fanOut.retries == 0)
        let builtIn = try GlobalOptions.parse([]).plan(environment: clean)
        #expect(builtIn.fanOut.timeout == .seconds(10))
        #expect(builtIn.fanOut.concurrency == 64)
        #expect(builtIn.fanOut.connectTimeout == .seconds(5))
        #expect(builtIn.fanOut.retries == 2)
        #expect(builtIn.fanOut.backoff == Backoff(initial: .milliseconds(200), maximum: .seconds(5)))

        #expect(throws: (any Error).self) { try GlobalOptions.parse(["--connect-timeout", "0"]) }
        #expect(throws: (any Error).self) { try GlobalOptions.parse(["--retries", "-1"]) }
        #expect(throws: (any Error).self) { try GlobalOptions.parse(["-n", "web-1", "-l", "role=web"]) }
    }

    /// Unix nodes, so that no credentials are needed.
    var fleet: ClientConfig {
        get throws {
            try ClientConfig(yaml: """
                defaultSelector: "role=web"
                nodes:
                  - {name: web-1, address: "unix:/tmp/web-1.sock", labels: {role: web, zone: a}}
                  - {name: web-2, address: "unix:/tmp/web-2.sock", labels: {role: web, zone: b}}
                  - {name: db-1, address: "unix:/tmp/db-1.sock", labels: {role: db, zone: a}}
                  - {name: spare, address: "unix:/tmp/spare.sock"}
                """, file: "/etc/bpfleet/fleet.yaml")
        }
    }

    @Test("which nodes: -n or --selector, else a manifest's, else $BPFLEET_NODE, else defaultSelector, else the local socket")
    func resolutionOrder() throws {
        let fleet = try fleet
        let manifest = NodeSelection(selector: "zone=a", names: ["spare", "web-1", "unix:/tmp/other.sock"], origin: "manifest probe.yaml")
        let variable = ["BPFLEET_NODE": "db-1"]
        func names(_ choice: NodeChoice = NodeChoice(), _ selection: NodeSelection? = nil, _ environment: [String: String]? = nil,
                   config: ClientConfig?) throws -> [String] {
            try NodeTargets.resolve(choice, selection: selection, config: config, environment: environment ?? clean).map(\.description)
        }
        #expect(try names(config: fleet) == ["web-1", "web-2"])
        #expect(try names(NodeChoice(), nil, variable, config: fleet) == ["db-1"])
        // The manifest's selector matches in file order, then its names not already there.
        #expect(try names(NodeChoice(), manifest, variable, config: fleet) == ["web-1", "db-1", "spare", "unix:/tmp/other.sock"])
        #expect(try names(NodeChoice(), NodeSelection(names: ["spare"], origin: "manifest m.yaml"), variable, config: fleet) == ["spare"])
        #expect(try names(NodeChoice(), NodeSelection(origin: "manifest m.yaml"), variable, config: fleet) == ["db-1"])
        #expect(try names(NodeChoice(selector: "zone!=a"), manifest, variable, config: fleet) == ["web-2", "spare"])
        #expect(try names(NodeChoice(nodes: ["spare"]), manifest, variable, config: fleet) == ["spare"])
        #expect(try names(NodeChoice(selector: "role in (web, db), !gpu"), config: fleet) == ["web-1", "web-2", "db-1"])
        // The empty selector matches every node, as in Kubernetes.
        #expect(try names(NodeChoice(selector: ""), config: fleet) == ["web-1", "web-2", "db-1", "spare"])
        #expect(try names(config: nil) == ["unix:/run/bpfleet/bpfleetd.sock"])
        var plain = fleet
        plain.defaultSelector = nil
        #expect(try names(config: plain) == ["unix:/run/bpfleet/bpfleetd.sock"])
    }

    @Test("a selector that does not parse, matches nothing, or comes with -n is a usage error")
    func selectorMistakes() throws {
        let fleet = try fleet
        #expect(error { try resolve(NodeChoice(nodes: ["web-1"], selector: "role=web"), config: fleet) }
            == "-n and --selector 'role=web' both say which nodes: give one")
        #expect(error { try resolve(NodeChoice(selector: "zone in x"), config: fleet) }
            == "--selector: column 9: expected '(' after in, found 'x'\n  zone in x\n          ^")
        #expect(error { try resolve(NodeChoice(selector: "role=cache"), config: fleet) }
            == "no node matches --selector 'role=cache' among the 4 nodes of config /etc/bpfleet/fleet.yaml")
        #expect(error { try resolve(NodeChoice(selector: "role=web")) }
            == "no node matches --selector 'role=web': no inventory or config file names any node (give --inventory FILE; see docs/cli.md)")
        #expect(error { try NodeTargets.resolve(NodeChoice(), selection: NodeSelection(selector: "role=cache", origin: "manifest probe.yaml"),
                                                config: fleet, environment: clean) }
            == "no node matches manifest probe.yaml selector 'role=cache' among the 4 nodes of config /etc/bpfleet/fleet.yaml")
        var unmatched = fleet
        unmatched.defaultSelector = Located("role=cache", line: 1)
        #expect(error { try resolve(config: unmatched) }
            == "no node matches defaultSelector (config /etc/bpfleet/fleet.yaml line 1) 'role=cache' among the 4 nodes of config /etc/bpfleet/fleet.yaml")
    }

    @Test("--inventory and --selector from the command line")
    func commandLine() throws {
        let inventory = pki.directory + "/inventory.yaml"
        try """
            nodes:
              - {name: web-1, address: "unix:/tmp/web-1.sock", labels: {role: web}}
              - {name: db-1, address: "unix:/tmp/db-1.sock", labels: {role: db}}
            """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let plan = try GlobalOptions.parse(["--inventory", inventory, "-l", "role=db"]).plan(environment: clean)
        #expect(plan.targets.map(\.description) == ["db-1"])
        let byName = try GlobalOptions.parse(["--inventory", inventory, "-n", "web-1"]).plan(environment: clean)
        #expect(byName.targets.map(\.address) == [.unix(path: "/tmp/web-1.sock")])
        let fromVariable = try GlobalOptions.parse(["--selector", "role"])
            .plan(environment: clean.merging(["BPFLEET_INVENTORY": inventory]) { $1 })
        #expect(fromVariable.targets.map(\.description) == ["web-1", "db-1"])
        // A manifest's nodes, unless the command line says.
        let manifest = NodeSelection(selector: "role=web", origin: "manifest probe.yaml")
        #expect(try GlobalOptions.parse(["--inventory", inventory]).plan(selection: manifest, environment: clean)
            .targets.map(\.description) == ["web-1"])
        #expect(try GlobalOptions.parse(["--inventory", inventory, "-l", "role=db"]).plan(selection: manifest, environment: clean)
            .targets.map(\.description) == ["db-1"])
        #expect(error { try GlobalOptions.parse(["-l", "role=web"]).plan(environment: clean).targets }?
            .hasPrefix("no node matches --selector 'role=web'") == true)
    }
}

import BpfleetShared
import Testing

private func reason(_ text: String) -> String? {
    let error = #expect(throws: AddressError.self) { try NodeAddress(parsing: text) }
    #expect(error?.text == text)
    return error?.reason
}

@Suite("NodeAddress(parsing:)")
struct NodeAddressTests {
    @Test(arguments: [
        ("unix:/run/bpfleet/bpfleetd.sock", NodeAddress.unix(path: "/run/bpfleet/bpfleetd.sock")),
        ("unix:///tmp/b.sock", .unix(path: "/tmp/b.sock")),
        ("unix:relative.sock", .unix(path: "relative.sock")),
        ("/tmp/test.sock", .unix(path: "/tmp/test.sock")),
        ("tcp://node1.example:9000", .tcp(host: "node1.example", port: 9000)),
        ("tcp://198.18.0.1:1", .tcp(host: "198.18.0.1", port: 1)),
        ("tcp://198.18.0.1:65535", .tcp(host: "198.18.0.1", port: 65535)),
        ("tcp://node1.example", .tcp(host: "node1.example", port: 7447)),
        ("tcp://[::1]:7447", .tcp(host: "::1", port: 7447)),
        ("tcp://[fe80::1%veth0]:8000", .tcp(host: "fe80::1%veth0", port: 8000)),
        ("tcp://[::1]", .tcp(host: "::1", port: 7447)),
    ])
    func parses(text: String, expected: NodeAddress) throws {
        #expect(try NodeAddress(parsing: text) == expected)
    }

    @Test func defaults() {
        #expect(NodeAddress.defaultPort == 7447)
        #expect(NodeAddress.defaultUnixPath == "/run/bpfleet/bpfleetd.sock")
    }

    @Test(arguments: ["tcp://h:0", "tcp://h:65536", "tcp://h:-1", "tcp://h:abc", "tcp://h:", "tcp://[::1]:", "tcp://[::1]x",
                      "tcp://[::1]:99999", "tcp://h:7447x"])
    func badPorts(text: String) {
        #expect(reason(text) == "port must be 1-65535")
    }

    @Test func emptyParts() {
        #expect(reason("unix:") == "empty socket path")
        #expect(reason("unix://") == "empty socket path")
        #expect(reason("tcp://") == "empty host")
        #expect(reason("tcp://:7447") == "empty host")
        #expect(reason("tcp://[]:7447") == "empty host")
        #expect(reason("tcp://[::1") == "unterminated IPv6 address")
    }

    @Test(arguments: ["", "node1:7447", "http://node1:7447", "udp://node1:7447", "TCP://node1", "unix", "tcp:/node1", "~/sock"])
    func junk(text: String) {
        #expect(reason(text) == "expected unix:/PATH or tcp://HOST[:PORT]")
    }

    /// Without brackets an IPv6 address cannot be told from its port;
    /// `tcp://::1` must not quietly become host ":" port 1.
    @Test func unbracketedIPv6IsRejected() {
        #expect(throws: AddressError.self) { try NodeAddress(parsing: "tcp://::1") }
    }

    @Test func errorDescription() {
        let error = #expect(throws: AddressError.self) { try NodeAddress(parsing: "tcp://h:0") }
        #expect(error?.description == "invalid address 'tcp://h:0': port must be 1-65535")
    }

    @Test(arguments: [
        (NodeAddress.unix(path: "/run/x.sock"), "unix:/run/x.sock"),
        (.tcp(host: "node1", port: 7447), "tcp://node1:7447"),
        (.tcp(host: "::1", port: 9), "tcp://[::1]:9"),
    ])
    func descriptionParsesBack(address: NodeAddress, text: String) throws {
        #expect(address.description == text)
        #expect(try NodeAddress(parsing: text) == address)
    }
}

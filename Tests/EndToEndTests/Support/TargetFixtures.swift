import Foundation
import TestSupport

/// Runs a command that must succeed; its stdout as text.
@discardableResult
func mustRun(_ executable: String, _ arguments: [String]) throws -> String {
    let result = try run(executable, arguments)
    guard result.status == 0 else {
        throw TestFailure("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(String(decoding: result.stderr, as: UTF8.self))")
    }
    return String(decoding: result.stdout, as: UTF8.self)
}

let ipTool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "ip"
let python3 = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "python3"

/// A veth pair with one end (`hostSide`) in bpfleetd's network namespace
/// and the other in a namespace of its own, addressed from 198.18.0.0/15
/// (RFC 2544's benchmarking range) with a /30 per pair. `remove()` deletes
/// the namespace, which takes both ends with it.
struct VethPair {
    let namespace: String
    let hostSide: String
    let peerSide: String
    let hostAddress: String
    let peerAddress: String

    static func create() throws -> VethPair {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let third = Int.random(in: 0...255), block = Int.random(in: 0...63) * 4
        let pair = VethPair(namespace: "bpfleet-\(tag)", hostSide: "bfh\(tag)", peerSide: "bfp\(tag)",
                            hostAddress: "198.18.\(third).\(block + 1)", peerAddress: "198.18.\(third).\(block + 2)")
        do {
            try mustRun(ipTool, ["netns", "add", pair.namespace])
            try mustRun(ipTool, ["link", "add", pair.hostSide, "type", "veth", "peer", "name", pair.peerSide, "netns", pair.namespace])
            try mustRun(ipTool, ["addr", "add", "\(pair.hostAddress)/30", "dev", pair.hostSide])
            try mustRun(ipTool, ["link", "set", pair.hostSide, "up"])
            try mustRun(ipTool, ["-n", pair.namespace, "addr", "add", "\(pair.peerAddress)/30", "dev", pair.peerSide])
            try mustRun(ipTool, ["-n", pair.namespace, "link", "set", pair.peerSide, "up"])
            try mustRun(ipTool, ["-n", pair.namespace, "link", "set", "lo", "up"])
        } catch {
            pair.remove()
            throw error
        }
        return pair
    }

    func remove() {
        _ = try? run(ipTool, ["netns", "del", namespace])
        _ = try? run(ipTool, ["link", "del", hostSide])
    }

    /// Sends `count` one-byte UDP datagrams to `address:port`, from the peer's
    /// namespace or from the host's, after one datagram to port 9 (discard)
    /// that settles ARP so none of the counted ones wait in a neighbour queue.
    func sendUDP(to address: String, port: Int, count: Int, fromPeer: Bool) throws {
        let script = """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"w", ("\(address)", 9))
            time.sleep(0.3)
            for _ in range(\(count)):
                s.sendto(b"x", ("\(address)", \(port)))
            """
        if fromPeer {
            try mustRun(ipTool, ["netns", "exec", namespace, python3, "-c", script])
        } else {
            try mustRun(python3, ["-c", script])
        }
    }
}

/// A cgroup v2 directory for one test, removed (after its processes) by `remove()`.
struct TestCgroup {
    let path: String

    /// Where cgroup v2 is mounted: /sys/fs/cgroup on unified hosts,
    /// /sys/fs/cgroup/unified on hybrid ones.
    static let root: String? = {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 2, fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }()

    static func create() throws -> TestCgroup {
        guard let root else { throw TestFailure("no cgroup2 filesystem is mounted (mount -t cgroup2 none /sys/fs/cgroup)") }
        let path = "\(root)/bpfleet-test-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        guard mkdir(path, 0o755) == 0 else { throw TestFailure("mkdir \(path): \(String(cString: strerror(errno)))") }
        return TestCgroup(path: path)
    }

    /// Runs a python script inside the cgroup (the shell moves itself in, then execs).
    func runPython(_ script: String) throws {
        try mustRun("/bin/sh", ["-c", "echo $$ > \(path)/cgroup.procs && exec \(python3) -c '\(script)'"])
    }

    func remove() {
        // A reaped child leaves the cgroup a moment after it exits.
        for _ in 0..<100 where rmdir(path) != 0 && errno == EBUSY { usleep(20_000) }
    }
}

/// A function's offset in an ELF file, as uprobes take it: its symbol value
/// moved from .text's address to .text's file offset (readelf the witness).
func elfFileOffset(of symbol: String, in path: String) throws -> UInt64 {
    let symbols = try mustRun("/usr/bin/readelf", ["-sW", path])
    guard let line = symbols.split(separator: "\n").first(where: { $0.hasSuffix(" " + symbol) }),
          let value = UInt64(line.split(separator: " ")[1], radix: 16) else { throw TestFailure("no \(symbol) in readelf -s") }
    let sections = try mustRun("/usr/bin/readelf", ["-SW", path])
    guard let text = sections.split(separator: "\n").first(where: { $0.contains(" .text ") }) else { throw TestFailure("no .text") }
    // [16] .text PROGBITS ADDRESS OFFSET SIZE ...
    let fields = text.split(separator: "]").last!.split(separator: " ")
    guard fields.count > 3, let address = UInt64(fields[2], radix: 16), let offset = UInt64(fields[3], radix: 16) else {
        throw TestFailure("cannot read .text: \(text)")
    }
    return value - address + offset
}

/// A small C program whose function `bpfleet_uprobe_target` runs as many
/// times as its argument says, compiled with cc into its own directory.
struct UprobeTarget {
    let directory: String
    var path: String { directory + "/uprobe_target" }
    static let symbol = "bpfleet_uprobe_target"

    static func build() throws -> UprobeTarget {
        let directory = try temporaryDirectory("uprobe")
        let source = directory + "/uprobe_target.c"
        try """
            #include <stdlib.h>
            __attribute__((noinline)) int bpfleet_uprobe_target(int x) { __asm__ volatile(""); return x + 1; }
            int main(int argc, char **argv) {
                int n = argc > 1 ? atoi(argv[1]) : 0, s = 0;
                for (int i = 0; i < n; i++) s = bpfleet_uprobe_target(s);
                return s == n ? 0 : 1;
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let cc = ["/usr/bin/cc", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "cc"
        try mustRun(cc, ["-O1", "-o", directory + "/uprobe_target", source])
        return UprobeTarget(directory: directory)
    }

    func call(times: Int) throws {
        try mustRun(path, [String(times)])
    }

    /// The function's offset in the file, as uprobes take it.
    func fileOffset() throws -> UInt64 {
        try elfFileOffset(of: Self.symbol, in: path)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Polls `read` until it reaches `expected` (or `timeout` passes) and
/// returns the last value: packets cross a veth in softirq context, a moment
/// after the sender returns.
func settle(atLeast expected: UInt64, timeout: TimeInterval = 10, _ read: () throws -> UInt64) throws -> UInt64 {
    let deadline = Date().addingTimeInterval(timeout)
    var value = try read()
    while value < expected, Date() < deadline {
        usleep(50_000)
        value = try read()
    }
    usleep(100_000)  // anything extra would show now
    return try read()
}

@testable import BpfleetServer
import Foundation
import Glibc
import NIOConcurrencyHelpers
import XCTest

final class LabelDecodingTests: XCTestCase {
    func testSyscallNamesOnX86_64() {
        XCTAssertEqual(LabelDecoding.syscallName(0, machine: .x86_64), "read")
        XCTAssertEqual(LabelDecoding.syscallName(1, machine: .x86_64), "write")
        XCTAssertEqual(LabelDecoding.syscallName(59, machine: .x86_64), "execve")
        XCTAssertEqual(LabelDecoding.syscallName(435, machine: .x86_64), "clone3")
        // 335...423 is a hole in x86_64's table.
        XCTAssertNil(LabelDecoding.syscallName(400, machine: .x86_64))
        XCTAssertNil(LabelDecoding.syscallName(-1, machine: .x86_64))
        XCTAssertNil(LabelDecoding.syscallName(100_000, machine: .x86_64))
        XCTAssertNil(LabelDecoding.syscallName(.max, machine: .x86_64))
        XCTAssertNil(LabelDecoding.syscallName(.min, machine: .x86_64))
    }

    func testSyscallNamesOnAarch64() {
        XCTAssertEqual(LabelDecoding.syscallName(221, machine: .aarch64), "execve")
        XCTAssertEqual(LabelDecoding.syscallName(64, machine: .aarch64), "write")
        XCTAssertEqual(LabelDecoding.syscallName(63, machine: .aarch64), "read")
        XCTAssertEqual(LabelDecoding.syscallName(435, machine: .aarch64), "clone3")
        // The generic table's 64-bit names: __NR3264_fstatat, __NR3264_lseek.
        XCTAssertEqual(LabelDecoding.syscallName(79, machine: .aarch64), "newfstatat")
        XCTAssertEqual(LabelDecoding.syscallName(62, machine: .aarch64), "lseek")
        XCTAssertNil(LabelDecoding.syscallName(-1, machine: .aarch64))
        XCTAssertNil(LabelDecoding.syscallName(100_000, machine: .aarch64))
    }

    func testTheDefaultMachineIsThisOne() {
        #if arch(x86_64)
        XCTAssertEqual(SyscallMachine.current, .x86_64)
        XCTAssertEqual(LabelDecoding.syscallName(59), "execve")
        #elseif arch(arm64)
        XCTAssertEqual(SyscallMachine.current, .aarch64)
        XCTAssertEqual(LabelDecoding.syscallName(221), "execve")
        #endif
    }

    func testErrnoNames() {
        XCTAssertEqual(LabelDecoding.errnoName(2), "ENOENT")
        XCTAssertEqual(LabelDecoding.errnoName(-2), "ENOENT")
        XCTAssertEqual(LabelDecoding.errnoName(11), "EAGAIN")
        XCTAssertEqual(LabelDecoding.errnoName(-11), "EAGAIN")
        XCTAssertEqual(LabelDecoding.errnoName(35), "EDEADLK")
        XCTAssertEqual(LabelDecoding.errnoName(110), "ETIMEDOUT")
        XCTAssertNil(LabelDecoding.errnoName(0))
        XCTAssertNil(LabelDecoding.errnoName(9999))
        XCTAssertNil(LabelDecoding.errnoName(-9999))
        XCTAssertNil(LabelDecoding.errnoName(.min))
        XCTAssertNil(LabelDecoding.errnoName(.max))
    }

    func testIPv4() {
        XCTAssertEqual(ipv4([10, 0, 0, 1]), "10.0.0.1")
        XCTAssertEqual(ipv4([192, 168, 255, 254]), "192.168.255.254")
        XCTAssertNil(ipv4([10, 0, 0]))
        XCTAssertNil(ipv4([]))
        XCTAssertNil(ipv4([10, 0, 0, 1, 2]))
    }

    func testIPv6() {
        XCTAssertEqual(ipv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), "::1")
        XCTAssertEqual(ipv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), "2001:db8::1")
        XCTAssertEqual(ipv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]), "::ffff:1.2.3.4")
        XCTAssertEqual(ipv6([UInt8](repeating: 0, count: 16)), "::")
        XCTAssertNil(ipv6([UInt8](repeating: 0, count: 15)))
        XCTAssertNil(ipv6([UInt8](repeating: 0, count: 17)))
        XCTAssertNil(ipv6([]))
    }

    func testAnAddressAtAnyAlignment() {
        let bytes: [UInt8] = [0xaa, 10, 0, 0, 1]
        XCTAssertEqual(bytes.withUnsafeBytes { LabelDecoding.ipv4(UnsafeRawBufferPointer(rebasing: $0[1...])) }, "10.0.0.1")
    }

    // MARK: CgroupPaths on a directory tree of its own

    func testCgroupPathsOfATree() throws {
        let root = try TemporaryTree()
        defer { root.remove() }
        try root.makeDirectory("a")
        try root.makeDirectory("a/b")
        try root.makeDirectory("c")
        // Neither a file nor a symlink to a directory is a cgroup.
        try root.makeFile("a/file")
        try root.makeSymlink("c/link", to: root.path + "/a")

        let clock = ManualClock()
        let paths = CgroupPaths(root: root.path, clock: clock.read)
        XCTAssertEqual(paths.path(of: try root.inode("")), "/")
        XCTAssertEqual(paths.path(of: try root.inode("a")), "/a")
        XCTAssertEqual(paths.path(of: try root.inode("a/b")), "/a/b")
        XCTAssertEqual(paths.path(of: try root.inode("c")), "/c")
        XCTAssertNil(paths.path(of: try root.inode("a/file")))
        XCTAssertNil(paths.path(of: 0))
        XCTAssertNil(paths.path(of: .max))

        // Made after the first walk: a miss walks again only once the
        // clock is past minimumRewalk.
        try root.makeDirectory("c/d")
        let late = try root.inode("c/d")
        clock.advance(by: 0.5)
        XCTAssertNil(paths.path(of: late))
        clock.advance(by: 0.6)
        XCTAssertEqual(paths.path(of: late), "/c/d")

        // Gone: the next walk drops it.
        try root.removeDirectory("c/d")
        clock.advance(by: 1.1)
        XCTAssertNil(paths.path(of: 0))
        XCTAssertNil(paths.path(of: late))
        XCTAssertEqual(paths.path(of: try root.inode("a/b")), "/a/b")
    }

    func testCgroupPathsKeepsToMaxDirectories() throws {
        let root = try TemporaryTree()
        defer { root.remove() }
        for directory in ["a", "a/b", "c", "d"] { try root.makeDirectory(directory) }
        let inodes = try ["", "a", "a/b", "c", "d"].map { try root.inode($0) }

        let clock = ManualClock()
        let paths = CgroupPaths(root: root.path, maxDirectories: 2, clock: clock.read)
        let known = inodes.filter { paths.path(of: $0) != nil }
        XCTAssertEqual(known.count, 2)
        XCTAssertEqual(paths.path(of: inodes[0]), "/")
    }

    func testCgroupPathsKeepsToMaxDepth() throws {
        let root = try TemporaryTree()
        defer { root.remove() }
        try root.makeDirectory("a")
        try root.makeDirectory("a/b")
        try root.makeDirectory("a/b/c")

        let paths = CgroupPaths(root: root.path, maxDepth: 2, clock: ManualClock().read)
        XCTAssertEqual(paths.path(of: try root.inode("a/b")), "/a/b")
        XCTAssertNil(paths.path(of: try root.inode("a/b/c")))
    }

    func testCgroupPathsOfAMissingRoot() {
        let paths = CgroupPaths(root: "/nonexistent/bpfleet-decoder-test-\(getpid())", clock: ManualClock().read)
        XCTAssertNil(paths.path(of: 1))
    }

    // MARK: CgroupPaths on the real cgroup v2 hierarchy

    /// On /sys/fs/cgroup when it is cgroup2 (a unified host), else on
    /// /sys/fs/cgroup/unified when that is (a hybrid one); skipped on
    /// neither, or when the test may not make a cgroup.
    func testCgroupPathsOfARealCgroup() throws {
        // statfs's f_type against CGROUP2_SUPER_MAGIC.
        let candidates = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        guard let root = candidates.first(where: { Filesystems.isMounted($0, magic: Attacher.cgroup2Magic) }) else {
            throw XCTSkip("neither /sys/fs/cgroup nor /sys/fs/cgroup/unified is a cgroup2 mount (statfs f_type is not CGROUP2_SUPER_MAGIC)")
        }
        let name = "bpfleet-decoder-test-\(getpid())"
        let directory = root + "/" + name
        guard mkdir(directory, 0o755) == 0 else {
            throw XCTSkip("cannot make \(directory): \(String(cString: strerror(errno)))")
        }
        defer { XCTAssertEqual(rmdir(directory), 0, "rmdir \(directory): \(String(cString: strerror(errno)))") }
        var status = stat()
        XCTAssertEqual(stat(directory, &status), 0)
        var rootStatus = stat()
        XCTAssertEqual(stat(root, &rootStatus), 0)

        let paths = CgroupPaths(root: root)
        XCTAssertEqual(paths.path(of: UInt64(status.st_ino)), "/" + name)
        XCTAssertEqual(paths.path(of: UInt64(rootStatus.st_ino)), "/")
    }

    // MARK: Helpers

    private func ipv4(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { LabelDecoding.ipv4($0) }
    }

    private func ipv6(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { LabelDecoding.ipv6($0) }
    }
}

/// A clock the test moves by hand.
private final class ManualClock: Sendable {
    private let now = NIOLockedValueBox(0.0)

    var read: @Sendable () -> Double { { self.now.withLockedValue { $0 } } }

    func advance(by seconds: Double) {
        now.withLockedValue { $0 += seconds }
    }
}

/// A directory under the temporary directory, removed with all it holds.
private struct TemporaryTree {
    let path: String

    init() throws {
        let template = FileManager.default.temporaryDirectory.path + "/bpfleet-decoder-test-XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let made else { throw BpfleetServer.POSIXError(errno, "mkdtemp \(template)") }
        path = made
    }

    func makeDirectory(_ relative: String) throws {
        guard mkdir(path + "/" + relative, 0o755) == 0 else { throw BpfleetServer.POSIXError(errno, "mkdir \(relative)") }
    }

    func removeDirectory(_ relative: String) throws {
        guard rmdir(path + "/" + relative) == 0 else { throw BpfleetServer.POSIXError(errno, "rmdir \(relative)") }
    }

    func makeFile(_ relative: String) throws {
        let fd = open(path + "/" + relative, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BpfleetServer.POSIXError(errno, "open \(relative)") }
        close(fd)
    }

    func makeSymlink(_ relative: String, to target: String) throws {
        guard symlink(target, path + "/" + relative) == 0 else { throw BpfleetServer.POSIXError(errno, "symlink \(relative)") }
    }

    /// The inode number of the directory (or file) at `relative` ("" for the root).
    func inode(_ relative: String) throws -> UInt64 {
        var status = stat()
        guard lstat(relative.isEmpty ? path : path + "/" + relative, &status) == 0 else { throw BpfleetServer.POSIXError(errno, "lstat \(relative)") }
        return UInt64(status.st_ino)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

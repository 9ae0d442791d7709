@testable import BpfleetServer
import BpfleetShared
import CLibBPF
import Foundation
import Glibc

/// Compiled programs (`make -C programs`) and ways to load them straight
/// through libbpf, without a server, for the reader tests.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func elf(_ name: String) throws -> [UInt8] {
        let path = packageRoot.appendingPathComponent("programs/build/\(name).bpf.o").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixtureFailure("missing \(path): run `make -C programs` (scripts/test.sh does)")
        }
        return Array(data)
    }
}

struct FixtureFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Kernel ids of what a test loaded, to check afterwards that none is left.
struct KernelIDs {
    var programs: [UInt32] = []
    var maps: [UInt32] = []

    /// Ids the kernel still knows after up to `seconds` (empty once
    /// everything is freed). The kernel frees a detached program and the
    /// maps it used after an RCU grace period, not at the close itself.
    func remaining(within seconds: Double = 10) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let left = remainingNow
            if left.isEmpty || Date() >= deadline { return left }
            usleep(20_000)
        }
    }

    /// Ids the kernel knows right now.
    var remainingNow: [String] {
        programs.compactMap { id in
            let fd = bpf_prog_get_fd_by_id(id)
            guard fd >= 0 else { return nil }
            close(fd)
            return "program \(id)"
        } + maps.compactMap { id in
            let fd = bpf_map_get_fd_by_id(id)
            guard fd >= 0 else { return nil }
            close(fd)
            return "map \(id)"
        }
    }
}

/// One of programs/build's objects loaded into the kernel with only the
/// named programs and with globals set; closed (every fd) in deinit.
final class LoadedFixture {
    let object: BPFObject

    init(_ name: String, programs: Set<String>, globals: [String: [UInt8]] = [:]) throws {
        object = try BPFObject(elf: try Fixtures.elf(name), name: name)
        for program in object.programs {
            bpf_program__set_autoload(program, programs.contains(String(cString: bpf_program__name(program))))
        }
        let slots = object.globalSlots()
        for (global, bytes) in globals {
            guard let slot = slots.first(where: { $0.description.name == global }), slot.description.size == bytes.count else {
                throw FixtureFailure("\(name) has no \(bytes.count)-byte global \(global)")
            }
            var size = 0
            guard let image = bpf_map__initial_value(slot.map, &size) else { throw FixtureFailure("no image for \(global)") }
            bytes.withUnsafeBytes { UnsafeMutableRawPointer(mutating: image).advanced(by: slot.description.offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        }
        let rc = bpf_object__load(object.handle)
        guard rc == 0 else { throw FixtureFailure("loading \(name) failed: \(errnoName(-rc)) \(takeLibbpfMessages())") }
    }

    func program(_ name: String) throws -> OpaquePointer {
        guard let program = bpf_object__find_program_by_name(object.handle, name) else { throw FixtureFailure("no program \(name)") }
        return program
    }

    func mapFD(_ name: String) throws -> Int32 {
        guard let map = bpf_object__find_map_by_name(object.handle, name), bpf_map__fd(map) >= 0 else {
            throw FixtureFailure("no map \(name)")
        }
        return bpf_map__fd(map)
    }

    /// Attaches by the program's section name (tracepoint, raw tracepoint).
    func attach(_ name: String) throws -> BPFLink {
        guard let handle = bpf_program__attach(try program(name)) else {
            throw FixtureFailure("attaching \(name) failed: \(errnoName(currentErrno()))")
        }
        return BPFLink(handle: handle)
    }

    /// Entry 0 of a one-`__u64` array map.
    func counter(_ map: String) throws -> UInt64 {
        var key: UInt32 = 0
        var value: UInt64 = 0
        guard bpf_map_lookup_elem(try mapFD(map), &key, &value) == 0 else { throw FixtureFailure("lookup in \(map) failed") }
        return value
    }

    var ids: KernelIDs {
        KernelIDs(
            programs: object.programs.compactMap { bpf_program__fd($0) >= 0 ? ProgramInfo(fd: bpf_program__fd($0))?.id : nil },
            maps: object.maps.compactMap { bpf_map__fd($0) >= 0 ? MapInfo(fd: bpf_map__fd($0))?.id : nil })
    }
}

/// A copy of /bin/true under a fresh name (the comm exec records carry).
struct UniqueBinary {
    let directory: String
    let path: String
    let comm: String

    init() throws {
        comm = "bfes" + String(UInt64.random(in: 0...UInt64.max), radix: 36).prefix(10)
        directory = NSTemporaryDirectory() + "bpfleet-events-\(comm)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/" + comm
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: path)
        chmod(path, 0o755)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs it once (posix_spawn, so the test process is the parent) and
    /// waits; returns the child's pid.
    func run() throws -> pid_t {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        defer { free(argv[0]) }
        let rc = posix_spawn(&pid, path, nil, nil, argv, [nil])
        guard rc == 0 else { throw FixtureFailure("posix_spawn \(path): \(errnoName(rc))") }
        var status: Int32 = 0
        guard waitpid(pid, &status, 0) == pid, status == 0 else { throw FixtureFailure("\(path) exited with status \(status)") }
        return pid
    }
}

/// getppid's system call number: the flood fixture counts only that call,
/// which nothing else in the test process makes.
let getppidSyscall: Int64 = {
    #if arch(x86_64)
    return 110
    #elseif arch(arm64)
    return 173
    #else
    #error("add this architecture's getppid number")
    #endif
}()

/// Makes `count` getppid system calls from the calling thread.
@inline(never)
func makeGetppidCalls(_ count: Int) {
    var sink: pid_t = 0
    for _ in 0..<count { sink &+= getppid() }
    withExtendedLifetime(sink) {}
}

/// CPUs this process may run on.
func allowedCPUs() -> [Int] {
    typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") else { return [0] }
    var set = cpu_set_t()
    guard unsafeBitCast(symbol, to: GetAffinity.self)(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else { return [0] }
    return withUnsafeBytes(of: &set) { bytes in
        (0..<(bytes.count * 8)).filter { bytes[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }
    }
}

/// Runs `body` on a new thread pinned to `cpu` (sched_setaffinity is not
/// in Swift's Glibc: reached through dlsym) and waits for it.
func onCPU(_ cpu: Int, _ body: @escaping @Sendable () -> Void) throws {
    typealias SetAffinity = @convention(c) (pid_t, Int, UnsafeRawPointer) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity") else {
        throw FixtureFailure("no sched_setaffinity")
    }
    let setAffinity = unsafeBitCast(symbol, to: SetAffinity.self)
    let pinned = LockedFlag()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        var set = cpu_set_t()
        withUnsafeMutableBytes(of: &set) { $0[cpu / 8] |= 1 << UInt8(cpu % 8) }
        if setAffinity(0, MemoryLayout<cpu_set_t>.size, &set) == 0 {
            pinned.set()
            body()
        }
        done.signal()
    }
    thread.start()
    done.wait()
    guard pinned.value else { throw FixtureFailure("could not pin a thread to CPU \(cpu)") }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var value: Bool { lock.withLock { flag } }
}

/// Polls `reader` until `done` says so or `seconds` pass, then once more
/// briefly for stragglers; returns every batch.
func drain(_ reader: any EventStreamReader, maxRecords: Int = 4096, maxBytes: Int = 4 << 20, seconds: Double = 10,
           until done: ([EventBatch]) -> Bool) throws -> [EventBatch] {
    var batches: [EventBatch] = []
    let deadline = Date().addingTimeInterval(seconds)
    while !done(batches), Date() < deadline {
        let batch = try reader.poll(timeoutMs: 100, maxRecords: maxRecords, maxBytes: maxBytes)
        if !batch.isEmpty || batch.lost > 0 { batches.append(batch) }
    }
    while true {
        let batch = try reader.poll(timeoutMs: 200, maxRecords: maxRecords, maxBytes: maxBytes)
        if batch.isEmpty && batch.lost == 0 { break }
        batches.append(batch)
    }
    return batches
}

/// Everything waiting, in batches, without waiting for more.
func drainNow(_ reader: any EventStreamReader, maxRecords: Int, maxBytes: Int = 4 << 20) throws -> [EventBatch] {
    var batches: [EventBatch] = []
    while true {
        let batch = try reader.poll(timeoutMs: 0, maxRecords: maxRecords, maxBytes: maxBytes)
        if batch.isEmpty && batch.lost == 0 { return batches }
        batches.append(batch)
    }
}

extension ArraySlice where Element == UInt8 {
    func u32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(self[startIndex + offset + $1]) << (8 * UInt32($1)) }
    }

    func u64(at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(self[startIndex + offset + $1]) << (8 * UInt64($1)) }
    }

    func cString(at offset: Int, length: Int) -> String {
        let field = self[(startIndex + offset)..<(startIndex + offset + length)]
        return String(decoding: field.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}

func bytes<T: FixedWidthInteger>(of value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

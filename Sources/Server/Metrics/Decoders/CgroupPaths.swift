import Glibc
import NIOConcurrencyHelpers

/// The `cgroup` label decoder: a cgroup v2 id (what
/// `bpf_get_current_cgroup_id()` returns, the inode number of the
/// cgroup's directory in cgroupfs) to the cgroup's path.
///
/// A cache of id → path, filled by walking the tree under `root`. The walk
/// is bounded: directories only, no symlink followed and no mount point
/// crossed (an entry on another device than `root` is skipped), at most
/// `maxDirectories` directories recorded (the root among them) and at most
/// `maxDepth` levels below the root; a walk that reaches a bound stops
/// there, so a deeper or later-found directory is not known. A walk thus
/// opens at most `maxDirectories` directories and reads their entries
/// (an entry readdir says is no directory costs no stat), and holds at
/// most `maxDepth` directory descriptors at once.
///
/// A miss walks again, but not sooner than `minimumRewalk` seconds after
/// the last walk: a map full of ids of cgroups that are gone answers nil
/// from the cache instead of walking the tree on every lookup. A walk
/// replaces the cache, so a cgroup removed since drops out of it. A walk
/// is done under the lock: lookups wait for it rather than walk too.
final class CgroupPaths: @unchecked Sendable {
    let root: String
    let maxDirectories: Int
    let maxDepth: Int
    let minimumRewalk: Double
    private let clock: @Sendable () -> Double

    private let lock = NIOLock()
    // Guarded by `lock`.
    private var paths: [UInt64: String] = [:]
    private var lastWalk: Double?

    init(
        root: String = CgroupPaths.cgroup2Mount() ?? "/sys/fs/cgroup",
        maxDirectories: Int = 65_536,
        maxDepth: Int = 64,
        minimumRewalk: Double = 1.0,
        clock: @escaping @Sendable () -> Double = { CgroupPaths.monotonicSeconds() }
    ) {
        self.root = root
        self.maxDirectories = max(0, maxDirectories)
        self.maxDepth = max(0, maxDepth)
        self.minimumRewalk = minimumRewalk
        self.clock = clock
    }

    /// Where cgroup v2 is mounted, from /proc/mounts: /sys/fs/cgroup on
    /// unified hosts, /sys/fs/cgroup/unified on hybrid ones; nil when it
    /// is not mounted.
    static func cgroup2Mount(mounts: String = "/proc/mounts") -> String? {
        let text = String(decoding: KernelSymbols.readProcFile(mounts, limit: 4 << 20), as: UTF8.self)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 2, fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }

    /// "/" for the root, "/system.slice/ssh.service" for others (relative to root, leading slash); nil when no directory has that id (a cgroup gone, or not a cgroup id).
    func path(of id: UInt64) -> String? {
        lock.withLock {
            if let path = paths[id] { return path }
            let now = clock()
            if let lastWalk, now - lastWalk < minimumRewalk { return nil }
            paths = Self.walk(root: root, maxDirectories: maxDirectories, maxDepth: maxDepth)
            lastWalk = now
            return paths[id]
        }
    }

    /// CLOCK_MONOTONIC in seconds.
    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }

    /// One directory being read: its stream and its path below the root.
    private struct Frame {
        let directory: OpaquePointer
        let path: String
        let depth: Int
    }

    /// Depth first, without recursion: a stack of at most `maxDepth + 1`
    /// open directories, each read through its descriptor (`openat` from
    /// its parent's, with O_NOFOLLOW), so a path is never resolved again.
    private static func walk(root: String, maxDirectories: Int, maxDepth: Int) -> [UInt64: String] {
        var found: [UInt64: String] = [:]
        guard maxDirectories > 0 else { return found }
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return found }
        var rootStat = stat()
        guard fstat(rootFD, &rootStat) == 0, let rootDirectory = fdopendir(rootFD) else {
            close(rootFD)
            return found
        }
        found[UInt64(rootStat.st_ino)] = "/"
        var stack = [Frame(directory: rootDirectory, path: "", depth: 0)]
        defer { for frame in stack { closedir(frame.directory) } }
        if maxDepth == 0 { return found }

        while found.count < maxDirectories, let frame = stack.last {
            guard let entry = readdir(frame.directory) else {
                closedir(frame.directory)
                stack.removeLast()
                continue
            }
            let parentFD = dirfd(frame.directory)
            let descend = frame.depth + 1 < maxDepth
            // The child's name, inode number and, to descend into it, a
            // descriptor opened by the very name readdir gave.
            let child = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { name -> (name: String, inode: UInt64, fd: Int32)? in
                    // ".", "..", and what readdir already says is no directory.
                    if name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0)) { return nil }
                    let type = entry.pointee.d_type
                    if type != UInt8(DT_DIR) && type != UInt8(DT_UNKNOWN) { return nil }
                    var status = stat()
                    guard fstatat(parentFD, name, &status, AT_SYMLINK_NOFOLLOW) == 0,
                          (status.st_mode & S_IFMT) == S_IFDIR,
                          status.st_dev == rootStat.st_dev else {
                        return nil
                    }
                    let fd = descend ? openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1
                    return (String(cString: name), UInt64(status.st_ino), fd)
                }
            }
            guard let child else { continue }
            let path = frame.path + "/" + child.name
            found[child.inode] = path
            guard child.fd >= 0 else { continue }
            guard let directory = fdopendir(child.fd) else {
                close(child.fd)
                continue
            }
            stack.append(Frame(directory: directory, path: path, depth: frame.depth + 1))
        }
        return found
    }
}

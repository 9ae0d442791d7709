import Foundation

/// The file of a Unix socket listener. bpfleetd binds a path only when no
/// process listens there (a socket file whose owner died, SIGKILL or a
/// crash, is replaced), and at exit removes the file only if it is still
/// the one it bound: the same device, inode and change time as once it was
/// bound and given its owner and mode (the change time because a file
/// made after ours was removed may get our inode number again).
struct UnixSocketFile: Sendable {
    let path: String
    let identity: Identity

    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var changed: timespec

        init(_ status: stat) {
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            changed = status.st_ctim
        }

        static func == (left: Identity, right: Identity) -> Bool {
            left.device == right.device && left.inode == right.inode
                && left.changed.tv_sec == right.changed.tv_sec && left.changed.tv_nsec == right.changed.tv_nsec
        }
    }

    /// What is at a socket path now.
    enum Occupant: Equatable {
        case nothing
        /// A socket file no process listens on (connect: ECONNREFUSED).
        case stale
        /// A process listens; its pid from SO_PEERCRED.
        case listener(pid: Int32?)
        case notASocket
    }

    /// Refuses to go on when a process listens on `path`, or when the path
    /// is something else than a socket.
    static func checkAvailable(_ path: String) throws {
        try refuse(try occupant(of: path), at: path)
    }

    private static func refuse(_ occupant: Occupant, at path: String) throws {
        switch occupant {
        case .nothing, .stale:
            return
        case .listener(let pid):
            throw StartupError("another process (pid \(pid.map(String.init) ?? "unknown")) listens on unix:\(path): it is probably another bpfleetd. Stop it, or choose another --listen path")
        case .notASocket:
            throw StartupError("unix:\(path) exists and is not a socket; remove it or choose another --listen path")
        }
    }

    /// Binds and listens on `path` when no one listens there, removing a
    /// stale socket file first; `prepare` sets the file's owner and mode
    /// before anyone can connect. Returns the listening descriptor (for
    /// NIO, which then never removes the file itself: its own Unix
    /// listeners unlink whatever is at their path when they close). The
    /// socket's directory is locked meanwhile, so that two bpfleetd starting
    /// at once cannot both find the path free.
    static func bind(_ path: String, backlog: Int32, prepare: (String) throws -> Void) throws -> (descriptor: Int32, file: UnixSocketFile) {
        let directory = try DirectoryLock(of: path)
        defer { directory.unlock() }
        let occupant = try occupant(of: path)
        try refuse(occupant, at: path)
        if occupant == .stale, unlink(path) != 0, errno != ENOENT {
            throw StartupError("cannot remove the stale socket unix:\(path): \(String(cString: strerror(errno)))")
        }
        var address = try socketAddress(path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else {
            throw StartupError("cannot make a socket for unix:\(path): \(String(cString: strerror(errno)))")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw StartupError("cannot bind unix:\(path): \(String(cString: strerror(code)))")
        }
        do {
            try prepare(path)
        } catch {
            close(descriptor)
            unlink(path)
            throw error
        }
        var status = stat()
        guard lstat(path, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw StartupError("the socket unix:\(path) is gone right after bind: \(String(cString: strerror(code)))")
        }
        let file = UnixSocketFile(path: path, identity: Identity(status))
        guard listen(descriptor, backlog) == 0 else {
            let code = errno
            close(descriptor)
            file.removeIfOurs(directoryLocked: true)
            throw StartupError("cannot listen on unix:\(path): \(String(cString: strerror(code)))")
        }
        return (descriptor, file)
    }

    /// Removes the socket file if it is still the one this process bound;
    /// one that someone put in its place is left alone. Returns whether it
    /// removed it.
    @discardableResult
    func removeIfOurs(directoryLocked: Bool = false) -> Bool {
        let directory = directoryLocked ? nil : try? DirectoryLock(of: path)
        defer { directory?.unlock() }
        var status = stat()
        guard lstat(path, &status) == 0, Identity(status) == identity else {
            return false
        }
        return unlink(path) == 0
    }

    static func occupant(of path: String) throws -> Occupant {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return .nothing }
            throw StartupError("cannot look at unix:\(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFSOCK else { return .notASocket }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard probe >= 0 else {
            throw StartupError("cannot make a socket to probe unix:\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(probe) }
        var address = try socketAddress(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected == 0 { return .listener(pid: peerPid(probe)) }
        switch errno {
        case ECONNREFUSED: return .stale
        // A listener whose backlog is full is still a listener.
        case EAGAIN: return .listener(pid: nil)
        case ENOENT: return .nothing
        case let code: throw StartupError("cannot probe unix:\(path): \(String(cString: strerror(code)))")
        }
    }

    private static func socketAddress(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let fits = withUnsafeMutableBytes(of: &address.sun_path) { raw in
            guard bytes.count < raw.count else { return false }
            raw.copyBytes(from: bytes)
            return true
        }
        guard fits else { throw StartupError("unix:\(path): the path is too long for a Unix socket") }
        return address
    }

    /// `struct ucred`'s layout.
    private struct UCred {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// The listening process, as the kernel recorded it when it called listen().
    private static func peerPid(_ descriptor: Int32) -> Int32? {
        var credentials = UCred()
        var length = socklen_t(MemoryLayout<UCred>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0, credentials.pid > 0 else { return nil }
        return credentials.pid
    }
}

/// An flock on a socket's directory for the moment a listener checks,
/// replaces and binds its path (or removes it at exit). Another bpfleetd
/// holds it for milliseconds; after 5 s of waiting bpfleetd goes on
/// without it rather than hang on a lock someone else keeps.
private struct DirectoryLock {
    let descriptor: Int32

    init(of socketPath: String) throws {
        let directory = (socketPath as NSString).deletingLastPathComponent
        descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw StartupError("cannot open the directory of unix:\(socketPath): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(5)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0, errno == EWOULDBLOCK || errno == EINTR, Date() < deadline {
            usleep(10_000)
        }
    }

    func unlock() {
        close(descriptor)
    }
}

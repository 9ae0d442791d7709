import Foundation

/// Which bpfleetd owns a state directory or a pin root: an exclusive
/// `flock(2)` held for as long as the process lives. The kernel drops it
/// when the process ends, however it ends, so a bpfleetd killed with
/// SIGKILL leaves nothing that stops the next one. A second bpfleetd on the
/// same directory would adopt the same probes and then disagree about them:
/// it refuses to start instead, naming the holder's pid.
///
/// The descriptor is close-on-exec, so no process bpfleetd starts can keep
/// the lock alive after bpfleetd itself is gone.
final class OwnershipLock: Sendable {
    /// What is locked: the lock file, or the pin root directory itself.
    let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// `STATE_DIR/bpfleetd.lock`, a regular file that holds the holder's
    /// pid. The file stays when bpfleetd exits: the lock, not the file, says
    /// who owns the directory (removing it would let two processes lock two
    /// different files of one name).
    static func stateDirectory(_ directory: String) throws -> OwnershipLock {
        let path = directory + "/bpfleetd.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw StartupError("cannot open the state directory's lock \(path): \(String(cString: strerror(errno)))")
        }
        let lock = OwnershipLock(path: path, descriptor: descriptor)
        guard let holder = try lock.take() else {
            lock.recordHolder()
            return lock
        }
        throw StartupError("the state directory \(directory) belongs to another bpfleetd (pid \(holder.description)), which holds \(path): two servers on one state directory would adopt the same probes. Stop it, or give this one its own --state-dir")
    }

    /// The pin root directory itself, opened O_RDONLY|O_DIRECTORY: bpffs
    /// refuses regular files (EPERM), so there is no lock file to hold a pid;
    /// the holder is found in /proc/locks.
    static func pinRoot(_ pinRoot: String) throws -> OwnershipLock {
        let descriptor = open(pinRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw StartupError("cannot open the pin root \(pinRoot) to lock it: \(String(cString: strerror(errno)))")
        }
        let lock = OwnershipLock(path: pinRoot, descriptor: descriptor)
        guard let holder = try lock.take() else { return lock }
        throw StartupError("the pin root \(pinRoot) belongs to another bpfleetd (pid \(holder.description)), which holds a lock on it: two servers on one pin root would adopt the same probes. Stop it, or give this one its own --pin-root")
    }

    /// nil when the lock is now ours; else who holds it.
    private func take() throws -> Holder? {
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return nil }
        let code = errno
        guard code == EWOULDBLOCK else {
            throw StartupError("cannot lock \(path): \(String(cString: strerror(code)))")
        }
        // /proc/locks is the kernel's word; the file's pid is for when the
        // holder is in another pid namespace (there /proc/locks says 0).
        return Holder(pid: Self.flockHolder(of: descriptor) ?? recordedHolder())
    }

    /// Writes this process's pid into the lock file, for operators and for
    /// the message of the next bpfleetd that finds the lock taken.
    private func recordHolder() {
        let text = Array("\(getpid())\n".utf8)
        guard ftruncate(descriptor, 0) == 0 else { return }
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// The pid a lock file holds, if it holds one.
    private func recordedHolder() -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int32(text).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The pid of the process holding a flock on the file `descriptor` is
    /// open on, from /proc/locks (`N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF`,
    /// major and minor in hex).
    static func flockHolder(of descriptor: Int32) -> Int32? {
        var status = stat()
        guard fstat(descriptor, &status) == 0,
              let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        let device = UInt64(status.st_dev)
        let major = (device >> 8) & 0xfff | (device >> 32) & ~0xfff
        let minor = device & 0xff | (device >> 12) & ~0xff
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return digits.count < 2 ? "0" + digits : digits
        }
        let file = "\(hex(major)):\(hex(minor)):\(status.st_ino)"
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // A lock someone waits for is listed again with "->": skip those.
            guard fields.count >= 6, fields[1] == "FLOCK", fields[5] == file else { continue }
            return Int32(fields[4]).flatMap { $0 > 0 ? $0 : nil }
        }
        return nil
    }

    /// Lets go of the lock (closing the descriptor does it too, as does
    /// the process's end).
    func release() {
        flock(descriptor, LOCK_UN)
    }

    private struct Holder {
        var pid: Int32?
        var description: String { pid.map(String.init) ?? "unknown" }
    }
}

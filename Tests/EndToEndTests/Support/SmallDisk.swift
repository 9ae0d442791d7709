import Foundation
import TestSupport

/// A tmpfs of a few pages mounted on a temporary directory: a disk that
/// fills up. `unmount()` must follow on every path (defer), after whatever
/// holds files open on it has let go.
struct SmallDisk {
    let path: String

    static func mount(size: String) throws -> SmallDisk {
        let path = try temporaryDirectory("disk")
        let mounted = try run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0755", "tmpfs", path])
        guard mounted.status == 0 else {
            rmdir(path)
            throw TestFailure("mount tmpfs on \(path): \(String(decoding: mounted.stderr, as: UTF8.self))")
        }
        return SmallDisk(path: path)
    }

    /// Unmounts (lazily if something still holds it) and removes the directory.
    func unmount() {
        if (try? run("/usr/bin/umount", [path]))?.status != 0 {
            _ = try? run("/usr/bin/umount", ["--lazy", path])
        }
        rmdir(path)
    }

    /// Writes the file `name` until the disk has no room left (ENOSPC).
    func fill(_ name: String = "filler") throws {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw TestFailure("open \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x2E, count: 512)
        var written = 0
        repeat {
            written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        } while written > 0
        let code = errno
        guard code == ENOSPC else { throw TestFailure("filling \(file) stopped with \(String(cString: strerror(code)))") }
    }

    /// Removes the file `name`, giving its room back.
    func free(_ name: String = "filler") {
        unlink(path + "/" + name)
    }
}

import Foundation

/// Durable, all-or-nothing file writes: temp file, fsync, rename, fsync of
/// the directory. A crash at any moment leaves the old file or the new one.
enum AtomicFile {
    static func write(_ bytes: some Collection<UInt8>, to path: String, mode: mode_t = 0o600) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw POSIXError(errno, "open \(temporary)") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            let data = Array(bytes)
            var written = 0
            while written < data.count {
                let n = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + written, data.count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw POSIXError(errno, "write \(temporary)")
                }
                written += n
            }
            guard fsync(fd) == 0 else { throw POSIXError(errno, "fsync \(temporary)") }
        }
        guard rename(temporary, path) == 0 else { throw POSIXError(errno, "rename to \(path)") }
        ok = true
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}

extension AtomicFile {
    /// Removes the temporary files of writes a crash interrupted in
    /// `directory` (`FILE.tmp-PID-RANDOM`); answers their names.
    @discardableResult
    static func removeTemporaries(in directory: String) -> [String] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".tmp-") }
        for file in files { unlink("\(directory)/\(file)") }
        return files.sorted()
    }
}

/// A failed system call, with what was being done.
struct POSIXError: Error, CustomStringConvertible {
    var code: Int32
    var operation: String
    init(_ code: Int32, _ operation: String) {
        self.code = code
        self.operation = operation
    }
    var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

/// `mkdir -p`, with the mode for the directories it creates.
func makeDirectories(_ path: String, mode: mode_t = 0o700) throws {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        current += "/" + component
        if mkdir(current, mode) != 0, errno != EEXIST {
            throw POSIXError(errno, "mkdir \(current)")
        }
    }
}

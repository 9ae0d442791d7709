import NIOCore

#if canImport(Glibc)
import Glibc
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, bytes, count) }
#elseif canImport(Musl)
import Musl
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Musl.write(fd, bytes, count) }
#elseif canImport(Darwin)
import Darwin
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(fd, bytes, count) }
#endif

/// Buffered writes straight to a file descriptor. Small pieces are gathered
/// into one write; a large piece (a raw snapshot result) is written from its
/// own buffer without a copy.
final class StandardStream {
    private let descriptor: Int32
    private var pending: ByteBuffer
    private static let gatherLimit = 64 << 10

    init(descriptor: Int32) {
        self.descriptor = descriptor
        self.pending = ByteBuffer()
        pending.reserveCapacity(Self.gatherLimit)
    }

    static func output() -> StandardStream { StandardStream(descriptor: STDOUT_FILENO) }
    static func error() -> StandardStream { StandardStream(descriptor: STDERR_FILENO) }

    deinit { flush() }

    func write(_ text: String) {
        pending.writeString(text)
        if pending.readableBytes >= Self.gatherLimit { flush() }
    }

    func write(_ bytes: ByteBuffer) {
        if bytes.readableBytes < Self.gatherLimit {
            var bytes = bytes
            pending.writeBuffer(&bytes)
            if pending.readableBytes >= Self.gatherLimit { flush() }
        } else {
            flush()
            writeAll(bytes)
        }
    }

    func flush() {
        guard pending.readableBytes > 0 else { return }
        writeAll(pending)
        pending.clear()
    }

    private func writeAll(_ bytes: ByteBuffer) {
        bytes.withUnsafeReadableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = posixWrite(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written >= 0 {
                    offset += written
                } else if errno == EINTR {
                    continue
                } else if errno == EPIPE {
                    // The reader went away (`| head`). NIO ignores SIGPIPE
                    // for its sockets; end the way an ordinary Unix tool would.
                    signal(SIGPIPE, SIG_DFL)
                    raise(SIGPIPE)
                    return
                } else {
                    return  // nowhere left to report a failing stdout/stderr
                }
            }
        }
    }
}

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
///
/// With `.yamlDocuments` the stream takes the JSON text the commands write
/// for `-o json` and `-o ndjson` and writes it as YAML: the JSON is held
/// until a flush finds one or more whole JSON values, and each becomes a
/// YAML document (`YAMLText`).
final class StandardStream {
    enum Transcoding {
        case none
        case yamlDocuments
    }

    private let descriptor: Int32
    private let transcoding: Transcoding
    private var pending: ByteBuffer
    private var documents = 0
    private static let gatherLimit = 64 << 10

    init(descriptor: Int32, transcoding: Transcoding = .none) {
        self.descriptor = descriptor
        self.transcoding = transcoding
        self.pending = ByteBuffer()
        pending.reserveCapacity(Self.gatherLimit)
    }

    static func output(_ transcoding: Transcoding = .none) -> StandardStream {
        StandardStream(descriptor: STDOUT_FILENO, transcoding: transcoding)
    }
    static func error() -> StandardStream { StandardStream(descriptor: STDERR_FILENO) }

    /// Whether the stream is a terminal (colour, live views).
    var isTerminal: Bool { isatty(descriptor) == 1 }

    deinit { finish() }

    func write(_ text: String) {
        pending.writeString(text)
        if transcoding == .none, pending.readableBytes >= Self.gatherLimit { flush() }
    }

    func write(_ bytes: ByteBuffer) {
        if transcoding == .none, bytes.readableBytes >= Self.gatherLimit {
            flush()
            writeAll(bytes)
        } else {
            var bytes = bytes
            pending.writeBuffer(&bytes)
            if transcoding == .none, pending.readableBytes >= Self.gatherLimit { flush() }
        }
    }

    func flush() {
        guard pending.readableBytes > 0 else { return }
        switch transcoding {
        case .none:
            writeAll(pending)
            pending.clear()
        case .yamlDocuments:
            // Whole values only: the rest waits for the writes that end it.
            let (values, rest) = YAMLText.wholeJSONValues(pending)
            guard !values.isEmpty else { return }
            var yaml = ByteBuffer()
            for value in values {
                yaml.writeString(YAMLText.document(value, first: documents == 0))
                documents += 1
            }
            writeAll(yaml)
            pending = rest
        }
    }

    /// Writes what is left; in YAML, text that never became a whole JSON
    /// value (a command cut short) is written as it is rather than lost.
    func finish() {
        flush()
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

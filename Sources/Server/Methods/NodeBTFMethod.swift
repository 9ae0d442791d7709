import BpfleetShared
import CBPFSupport
import CLibBPF
import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore

extension NodeBTF: ServedMethod {
    /// The directory the kernel describes itself and its modules in.
    static let directory = "/sys/kernel/btf"
    /// The most bytes of raw BTF read from one file, and of a header made
    /// from it (vmlinux's are a few MiB).
    static let largestRawBytes = 64 << 20
    static let largestHeaderBytes = 64 << 20

    func serve(_ context: CallContext) async throws -> Reply {
        let format = self.format ?? Self.defaultFormat
        guard Self.formats.contains(format) else {
            throw ResponseError.invalidParams("format: '\(format.prefix(32))' is not raw or c", field: "format")
        }
        if let module, let problem = Self.moduleNameProblem(module) {
            throw ResponseError.invalidParams(problem, field: "module")
        }
        // The cheap checks before any file is read.
        _ = try Self.chunk(totalBytes: Int.max, offset: offset, maxBytes: maxBytes)
        // At most two calls read, hash, make and encode at once: each
        // holds a few times the BTF's size (the file, a header, the chunk's
        // base64) until its answer is encoded.
        await Self.gate.wait()
        defer { Self.gate.signal() }
        let module = self.module
        let pool = context.threadPool
        let source = try await pool.runIfActive { try BTFSource.load(module: module) }
        let body: [UInt8]
        if format == "c" {
            body = try await Self.headers.header(for: source) {
                try await pool.runIfActive { try source.header(largest: Self.largestHeaderBytes) }
            }
        } else {
            body = source.raw
        }
        let range = try Self.chunk(totalBytes: body.count, offset: offset, maxBytes: maxBytes)
        let result = Result(
            kernelRelease: context.features.kernelRelease, module: module, sha256: source.sha256, baseSha256: source.base?.sha256,
            format: format, totalBytes: body.count, offset: range.lowerBound,
            data: Data(body[range]).base64EncodedString(), done: range.upperBound == body.count)
        return .value(RawJSON(bytes: ByteBuffer(bytes: try JSONEncoder.wire().encode(result))))
    }

    static let gate = AsyncSemaphore(permits: 2)

    /// The headers made last, so that paging one does not make it again.
    static let headers = HeaderCache(capacity: 2)
}

/// One BTF file of the kernel's, read whole (bounded) and hashed: vmlinux's,
/// or a module's with the vmlinux BTF it is split on.
struct BTFSource: Sendable {
    let module: String?
    let raw: [UInt8]
    let sha256: String
    /// For a module: vmlinux's.
    let base: Base?

    struct Base: Sendable {
        let raw: [UInt8]
        let sha256: String
    }

    /// What the header cache knows this source by.
    var key: String { "\(module ?? "vmlinux")/\(sha256)/\(base?.sha256 ?? "")" }

    /// Reads vmlinux's BTF, or `module`'s (a name already checked) and
    /// vmlinux's. A module without BTF here is -32003; a kernel without
    /// vmlinux BTF is -32008.
    static func load(module: String?) throws(ResponseError) -> BTFSource {
        let vmlinux: [UInt8]
        do throws(ReadFailure) {
            vmlinux = try readFile("\(NodeBTF.directory)/vmlinux")
        } catch {
            if error.missing { throw .unsupported("btf", "this kernel does not describe itself in BTF (no \(NodeBTF.directory)/vmlinux)") }
            throw error.response("vmlinux")
        }
        let vmlinuxHash = hash(vmlinux)
        guard let module else { return BTFSource(module: nil, raw: vmlinux, sha256: vmlinuxHash, base: nil) }
        let raw: [UInt8]
        do throws(ReadFailure) {
            raw = try readFile("\(NodeBTF.directory)/\(module)")
        } catch {
            if error.missing { throw .notFound("module", module) }
            throw error.response(module)
        }
        return BTFSource(module: module, raw: raw, sha256: hash(raw), base: Base(raw: vmlinux, sha256: vmlinuxHash))
    }

    /// The C header of this BTF (a module's on top of vmlinux's), as
    /// bpftool writes it.
    func header(largest: Int) throws(ResponseError) -> [UInt8] {
        bpfleet_libbpf_messages_reset()
        guard let parsed = Self.parse(raw, base: base) else {
            throw ResponseError(.kernelError, "libbpf could not parse the \(module ?? "vmlinux") BTF: \(String(cString: bpfleet_libbpf_messages_get()))",
                                data: ["errno": .int(Int64(errno))])
        }
        defer {
            btf__free(parsed.btf)
            if let base = parsed.base { btf__free(base) }
        }
        var text: UnsafeMutablePointer<CChar>?
        var length = 0
        let result = bpfleet_btf_dump_c(parsed.btf, largest, &text, &length)
        defer { free(text) }
        if result == -E2BIG {
            throw .limitExceeded("headerBytes", largest, "the C header of the \(module ?? "vmlinux") BTF is over \(largest) bytes")
        }
        guard result == 0, let text else {
            throw ResponseError(.kernelError, "libbpf could not write the \(module ?? "vmlinux") BTF as C (\(String(cString: strerror(-result))))",
                                data: ["errno": .int(Int64(-result))])
        }
        return text.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// libbpf's parse of `raw` (split on `base` when there is one); nil
    /// when libbpf refuses it.
    private static func parse(_ raw: [UInt8], base: Base?) -> (btf: OpaquePointer, base: OpaquePointer?)? {
        guard let base else {
            return raw.withUnsafeBytes { bytes in
                guard let start = bytes.baseAddress, let btf = btf__new(start, UInt32(bytes.count)) else { return nil }
                return (btf, nil)
            }
        }
        guard let parent = base.raw.withUnsafeBytes({ bytes in bytes.baseAddress.flatMap { btf__new($0, UInt32(bytes.count)) } }) else {
            return nil
        }
        guard let btf = raw.withUnsafeBytes({ bytes in bytes.baseAddress.flatMap { bpfleet_btf_new_split($0, bytes.count, parent) } }) else {
            btf__free(parent)
            return nil
        }
        return (btf, parent)
    }

    static func hash(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }

    struct ReadFailure: Error {
        let errno: Int32
        let tooLarge: Bool
        var missing: Bool { errno == ENOENT }

        func response(_ name: String) -> ResponseError {
            if tooLarge {
                return .limitExceeded("btfBytes", NodeBTF.largestRawBytes, "the \(name) BTF is over \(NodeBTF.largestRawBytes) bytes")
            }
            return ResponseError(.kernelError, "reading the \(name) BTF failed: \(String(cString: strerror(errno)))",
                                 data: ["errno": .int(Int64(errno))])
        }
    }

    /// A regular file's bytes, at most `NodeBTF.largestRawBytes` (no link
    /// followed); a file that is empty or larger is refused.
    private static func readFile(_ path: String) throws(ReadFailure) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw ReadFailure(errno: errno, tooLarge: false) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ReadFailure(errno: errno, tooLarge: false) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw ReadFailure(errno: EINVAL, tooLarge: false) }
        let largest = NodeBTF.largestRawBytes
        // sysfs sizes its BTF files; read one byte past the largest to
        // learn that a file is too large whatever it says.
        var bytes = [UInt8](repeating: 0, count: min(max(Int(status.st_size), 0), largest) + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                // Nonnil: the array is never empty.
                read(descriptor, buffer.baseAddress.map { $0 + filled }, buffer.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadFailure(errno: errno, tooLarge: false)
            }
            if count == 0 { break }
            filled += count
            if filled == bytes.count, filled <= largest {
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, largest + 1 - bytes.count)))
            }
        }
        guard filled <= largest else { throw ReadFailure(errno: EFBIG, tooLarge: true) }
        guard filled > 0 else { throw ReadFailure(errno: ENODATA, tooLarge: false) }
        return Array(bytes.prefix(filled))
    }
}

/// The last few C headers made, by their source's key: paging a header of
/// several chunks makes it once. Two calls for the same header at once may
/// both make it; the cache holds one.
final class HeaderCache: Sendable {
    private let capacity: Int
    private let entries = NIOLockedValueBox<[(key: String, header: [UInt8])]>([])

    init(capacity: Int) {
        self.capacity = capacity
    }

    func header(for source: BTFSource, make: () async throws -> [UInt8]) async throws -> [UInt8] {
        let key = source.key
        if let found = entries.withLockedValue({ entries in entries.first { $0.key == key }?.header }) {
            return found
        }
        let header = try await make()
        entries.withLockedValue { entries in
            entries.removeAll { $0.key == key }
            entries.append((key, header))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
        return header
    }
}

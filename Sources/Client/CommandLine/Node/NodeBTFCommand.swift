import ArgumentParser
import BpfleetShared
import Foundation
import NIOCore

/// `bpfleet node btf -n NODE -o vmlinux.h [--raw] [--module NAME]`
///
/// `-o` is the file written here, so the command takes the connection
/// options itself (every global option but `-o`, `-l` and the fan-out's).
struct NodeBTFCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "btf",
        abstract: "Write a node's kernel types: the vmlinux.h a CO-RE build includes, or the raw BTF (method node.btf).",
        discussion: """
            Takes the options every command takes (-n NODE, --config, --ca/--cert/--key, --timeout, ...), \
            but -o names the file to write. The C header is made on the node from its BTF as `bpftool btf dump file /sys/kernel/btf/vmlinux format c` \
            makes it. Answers are cached by the sha256 of the node's raw BTF under $XDG_CACHE_HOME/bpfleet/btf \
            (default ~/.cache/bpfleet/btf): a second fetch from an unchanged kernel asks the node for the hash alone \
            and copies the cached file. What was written, and whether it came from the cache, is said on stderr.
            """)

    /// -n, --config, TLS, timeouts: as every command's. (Its `-o` is never
    /// seen: `outputFileArguments` makes this command's `-o` its file.)
    @OptionGroup(visibility: .private) var options: GlobalOptions

    @Option(name: .customLong("output-file"), help: ArgumentHelp(
        "The file to write, atomically; - for standard output. Given as -o FILE or --output FILE.", valueName: "file"))
    var output: String = "-"

    @Flag(help: "Write the raw BTF instead of the C header.")
    var raw = false

    @Option(help: ArgumentHelp("A kernel module's types (its split BTF on top of vmlinux's) instead of vmlinux's.", valueName: "name"))
    var module: String?

    @Option(name: .customLong("chunk-bytes"), help: ArgumentHelp(
        "The most bytes to ask for per call (default \(NodeBTF.defaultMaxBytes), at most \(NodeBTF.largestMaxBytes)).", valueName: "n"))
    var chunkBytes: Int?

    @Flag(name: .customLong("no-cache"), help: "Neither read nor write the local cache.")
    var noCache = false

    /// The most bytes of an answer the client takes.
    static let largestTotalBytes = 256 << 20

    func validate() throws {
        if let module, let problem = NodeBTF.moduleNameProblem(module) {
            throw ValidationError("--\(problem)")
        }
        if let chunkBytes, !(1...NodeBTF.largestMaxBytes).contains(chunkBytes) {
            throw ValidationError("--chunk-bytes must be 1 to \(NodeBTF.largestMaxBytes)")
        }
        if output.isEmpty { throw ValidationError("-o needs a file name, or - for standard output") }
    }

    /// The arguments with this command's `-o FILE`, `--output FILE` and
    /// `--output=FILE` (after `node btf`) as `--output-file`: everywhere
    /// else `-o` is the output format, which every command also takes.
    static func outputFileArguments(_ arguments: [String]) -> [String] {
        guard let node = arguments.indices.first(where: { $0 + 1 < arguments.count && arguments[$0] == "node" && arguments[$0 + 1] == "btf" })
        else { return arguments }
        var rewritten = Array(arguments[...(node + 1)])
        for argument in arguments[(node + 2)...] {
            if argument == "-o" || argument == "--output" {
                rewritten.append("--output-file")
            } else if argument.hasPrefix("--output=") {
                rewritten.append("--output-file=" + argument.dropFirst("--output=".count))
            } else {
                rewritten.append(argument)
            }
        }
        return rewritten
    }

    func run() async throws {
        let errors = StandardStream.error()
        func fail(_ text: String) -> ExitCode {
            errors.write("bpfleet: \(text)\n")
            errors.flush()
            return ExitCode.failure
        }
        let plan: GlobalOptions.Plan
        do {
            plan = try options.plan()
        } catch {
            errors.write("bpfleet: \(error)\n")
            errors.flush()
            throw ExitCode.validationFailure
        }
        guard plan.targets.count == 1, let target = plan.targets.first else {
            errors.write("bpfleet: node btf writes one node's types: name one node with -n (\(plan.targets.count) chosen)\n")
            errors.flush()
            throw ExitCode.validationFailure
        }
        let cache = noCache ? nil : BTFCache.directory(environment: ProcessInfo.processInfo.environment).map(BTFCache.init)
        let fetch = BTFFetch(module: module, format: raw ? "raw" : "c", chunkBytes: chunkBytes ?? NodeBTF.defaultMaxBytes,
                             largest: Self.largestTotalBytes, cache: cache)
        let fetched: BTFFetch.Outcome
        do {
            fetched = try await plan.fanOut.call(target) { connection in
                try await MethodFailure.naming(NodeBTF.method) { try await fetch.run(on: connection) }
            }
        } catch {
            throw fail("\(target): \(FailureText.line(error))")
        }
        if output == "-" {
            let out = StandardStream.output()
            out.write(ByteBuffer(bytes: fetched.bytes))
            out.flush()
        } else {
            do {
                try AtomicWrite.store(fetched.bytes, to: output)
            } catch {
                throw fail("\(error)")
            }
        }
        let what = raw ? "raw BTF" : "C header"
        let source = fetched.chunks == 0 ? "from the cache" : "fetched in \(fetched.chunks) chunk\(fetched.chunks == 1 ? "" : "s")"
        let destination = output == "-" ? "standard output" : output
        var note = "bpfleet: \(target): \(module ?? "vmlinux") BTF sha256:\(fetched.sha256): wrote \(fetched.bytes.count) bytes of \(what) to \(destination), \(source)"
        if let problem = fetched.cacheProblem { note += " (not cached: \(problem))" }
        errors.write(note + "\n")
        errors.flush()
    }
}

/// One fetch of a node's types: the hash first (a call with `maxBytes` 0),
/// the cached file when there is one, else every chunk, then the cache.
struct BTFFetch: Sendable {
    var module: String?
    var format: String
    var chunkBytes: Int
    /// The most bytes of an answer taken.
    var largest: Int
    var cache: BTFCache?

    struct Outcome: Sendable {
        var bytes: [UInt8]
        var sha256: String
        /// Calls that carried the answer's bytes: 0 when it came from the cache.
        var chunks: Int
        /// Why the answer could not be cached, when it could not.
        var cacheProblem: String?
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func run(on connection: NodeConnection) async throws -> Outcome {
        // The hash (of the raw BTF, whatever the format) and nothing else.
        let first = try await connection.call(NodeBTF(module: module, format: "raw", offset: 0, maxBytes: 0))
        try check(first, format: "raw", sha256: nil)
        let name = BTFCache.fileName(sha256: first.sha256, baseSha256: first.baseSha256, module: module, format: format)
        if let cache, let bytes = cache.read(name, rawSha256: format == "raw" ? first.sha256 : nil, largest: largest) {
            return Outcome(bytes: bytes, sha256: first.sha256, chunks: 0)
        }
        var bytes: [UInt8] = []
        var chunks = 0
        while true {
            let answer = try await connection.call(NodeBTF(module: module, format: format, offset: bytes.count, maxBytes: chunkBytes))
            try check(answer, format: format, sha256: first.sha256)
            guard answer.offset == bytes.count, let data = Data(base64Encoded: answer.data) else {
                throw Failure(description: "node.btf answered a chunk that is not the one asked for")
            }
            guard data.count <= chunkBytes, bytes.count + data.count <= answer.totalBytes,
                  answer.done == (bytes.count + data.count == answer.totalBytes), !data.isEmpty || answer.done else {
                throw Failure(description: "node.btf answered a chunk of \(data.count) bytes at \(answer.offset) of \(answer.totalBytes) (done: \(answer.done))")
            }
            if bytes.isEmpty { bytes.reserveCapacity(answer.totalBytes) }
            bytes += data
            chunks += 1
            if answer.done { break }
        }
        if format == "raw", BTFCache.sha256(bytes) != first.sha256 {
            throw Failure(description: "the BTF fetched does not hash to the sha256 the node gave")
        }
        var problem: String?
        if let cache {
            do {
                try cache.write(name, bytes)
            } catch {
                problem = "\(error)"
            }
        }
        return Outcome(bytes: bytes, sha256: first.sha256, chunks: chunks, cacheProblem: problem)
    }

    /// What every answer must be: of the format and module asked for, a
    /// lowercase sha256 (the same throughout: the kernel's types did not
    /// change while fetching), a size within `largest`.
    private func check(_ answer: NodeBTF.Result, format: String, sha256: String?) throws {
        guard answer.sha256.utf8.count == 64, answer.sha256.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
              answer.baseSha256.map({ $0.utf8.count == 64 && $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } }) ?? true
        else {
            throw Failure(description: "node.btf answered a sha256 that is not 64 lowercase hex digits")
        }
        guard answer.format == format, answer.module == module else {
            throw Failure(description: "node.btf answered \(answer.format) of \(answer.module ?? "vmlinux"), not what was asked for")
        }
        if let sha256, answer.sha256 != sha256 {
            throw Failure(description: "the node's BTF changed while it was fetched (sha256 \(sha256) became \(answer.sha256)); try again")
        }
        guard answer.totalBytes >= 0, answer.totalBytes <= largest else {
            throw Failure(description: "node.btf answered \(answer.totalBytes) bytes, over the \(largest) this client takes")
        }
    }
}

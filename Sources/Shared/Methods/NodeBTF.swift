/// `node.btf`: the node's kernel types, for CO-RE builds: the vmlinux BTF
/// (`/sys/kernel/btf/vmlinux`) or a module's, raw or as the C header a
/// build includes (`vmlinux.h`), a chunk at a time (docs/btf.md).
public struct NodeBTF: RPCMethod {
    public static let method = "node.btf"
    /// A module's BTF (`/sys/kernel/btf/NAME`, split on top of vmlinux's)
    /// instead of vmlinux's.
    public var module: String?
    /// `raw` (the BTF bytes, the default) or `c` (the C header).
    public var format: String?
    /// Where this chunk starts in the whole answer (default 0).
    public var offset: Int?
    /// The most bytes of this chunk (default 4 MiB, at most 8 MiB); 0
    /// answers the hash and size alone.
    public var maxBytes: Int?

    public init(module: String? = nil, format: String? = nil, offset: Int? = nil, maxBytes: Int? = nil) {
        self.module = module
        self.format = format
        self.offset = offset
        self.maxBytes = maxBytes
    }

    public struct Result: Codable, Sendable, Hashable {
        public var kernelRelease: String
        public var module: String?
        /// The sha256 (hex) of the raw BTF, whatever the format.
        public var sha256: String
        /// With `module`: the sha256 of the vmlinux BTF it is split on.
        public var baseSha256: String?
        public var format: String
        /// The size of the whole answer in this format.
        public var totalBytes: Int
        public var offset: Int
        /// This chunk's bytes, base64.
        public var data: String
        /// Whether this chunk ends the answer.
        public var done: Bool

        public init(kernelRelease: String, module: String? = nil, sha256: String, baseSha256: String? = nil, format: String,
                    totalBytes: Int, offset: Int, data: String, done: Bool) {
            self.kernelRelease = kernelRelease
            self.module = module
            self.sha256 = sha256
            self.baseSha256 = baseSha256
            self.format = format
            self.totalBytes = totalBytes
            self.offset = offset
            self.data = data
            self.done = done
        }
    }

    /// The formats, and the default.
    public static let formats = ["raw", "c"]
    public static let defaultFormat = "raw"
    /// `maxBytes`: its default and ceiling. A chunk of the ceiling is
    /// about 11 MiB of JSON (base64), well under the server's 64 MiB
    /// message limit.
    public static let defaultMaxBytes = 4 << 20
    public static let largestMaxBytes = 8 << 20
    /// The longest module name asked for (the kernel's MODULE_NAME_LEN is 56).
    public static let longestModuleName = 64

    /// Why a module name is refused, or nil: 1 to 64 letters, digits, `_`
    /// and `-` (no `/`, no `..`), and not `vmlinux` (which is the default).
    public static func moduleNameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= longestModuleName else {
            return "module: a module name is 1 to \(longestModuleName) characters"
        }
        guard name.utf8.allSatisfy({ byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }) else {
            return "module: '\(name.prefix(longestModuleName))' is not a module name (letters, digits, '_' and '-' only)"
        }
        guard name != "vmlinux" else { return "module: vmlinux is not a module (leave module out for it)" }
        return nil
    }

    /// The chunk of an answer of `totalBytes` that `offset` and `maxBytes`
    /// ask for, or the invalid-params error naming the field: `offset` 0
    /// to `totalBytes` (at `totalBytes`, an empty last chunk), `maxBytes`
    /// 0 to `largestMaxBytes`.
    public static func chunk(totalBytes: Int, offset: Int?, maxBytes: Int?) throws(ResponseError) -> Range<Int> {
        let start = offset ?? 0
        let most = maxBytes ?? defaultMaxBytes
        guard start >= 0 else { throw .invalidParams("offset: must not be negative", field: "offset") }
        guard most >= 0, most <= largestMaxBytes else {
            throw .invalidParams("maxBytes: 0 to \(largestMaxBytes) bytes", field: "maxBytes")
        }
        guard start <= totalBytes else {
            throw .invalidParams("offset: \(start) is past the end of the \(totalBytes) bytes", field: "offset")
        }
        return start..<(start + min(most, totalBytes - start))
    }
}

extension NodeBTF {
    public static let wireSummary = "The node's kernel types for CO-RE builds: the vmlinux BTF, or a module's, raw or as the C header a build includes (`vmlinux.h`, as `bpftool btf dump ... format c` writes it), with the kernel release and the BTF's sha256, a chunk at a time (docs/btf.md)."
    public static let wireFields: [String: WireField] = [
        "module": WireField("A module's BTF (`/sys/kernel/btf/NAME`, split on top of vmlinux's) instead of vmlinux's: 1 to 64 letters, digits, `_` and `-`.", pattern: "^[A-Za-z0-9_-]{1,64}$"),
        "format": WireField("`raw` (the BTF bytes, the default) or `c` (the C header).", values: formats),
        "offset": WireField("Where this chunk starts in the whole answer (default 0; at most `totalBytes`).", minimum: 0),
        "maxBytes": WireField("The most bytes of this chunk (default 4 MiB, at most 8 MiB); 0 answers the hash and size alone.", minimum: 0, maximum: Int64(largestMaxBytes)),
    ]
    public static let errors: [ErrorCode] = [.notFound, .unsupported, .limitExceeded, .kernelError]
    public static let example = NodeBTF(format: "c", offset: 0, maxBytes: 45)
    public static let exampleResult = Result(
        kernelRelease: "6.1.0-28-amd64", sha256: "5e0f6c3a9d3f4b0c8a6e2f1d7b9c4a3e2d1f0e9c8b7a6d5e4f3a2b1c0d9e8f7a", format: "c",
        totalBytes: 2_806_151, offset: 0, data: "I2lmbmRlZiBfX1ZNTElOVVhfSF9fCiNkZWZpbmUgX19WTUxJTlVYX0hfXwoK", done: false)
}

extension NodeBTF.Result: WireDocumented {
    public static let wireSummary = "One chunk of the kernel's types."
    public static let wireFields: [String: WireField] = [
        "kernelRelease": "`uname -r`.",
        "module": "The module asked for; absent for vmlinux.",
        "sha256": WireField("The sha256 (hex) of the raw BTF, whatever the format: what a client caches by.", pattern: "^[0-9a-f]{64}$"),
        "baseSha256": WireField("With `module`: the sha256 of the vmlinux BTF the module's is split on.", pattern: "^[0-9a-f]{64}$"),
        "format": WireField("The format of `data`.", values: NodeBTF.formats),
        "totalBytes": WireField("The size of the whole answer in this format.", minimum: 0),
        "offset": WireField("Where this chunk starts.", minimum: 0),
        "data": "This chunk's bytes, base64.",
        "done": "Whether this chunk ends the answer (`offset` plus its bytes is `totalBytes`).",
    ]
}

import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `node.btf` and `bpfleet node btf` against a real node (docs/btf.md):
/// the raw BTF byte for byte, the C header as bpftool writes it, a CO-RE
/// program built on it that loads, the client's cache, and bad params.
@Suite(.requiresKernel)
struct NodeBTFTests {
    static let vmlinux = "/sys/kernel/btf/vmlinux"

    /// sha256sum's hex digest of a file.
    static func sha256(_ path: String) throws -> String {
        let result = try run("/usr/bin/sha256sum", [path])
        guard result.status == 0, let digest = String(decoding: result.stdout, as: UTF8.self).split(separator: " ").first else {
            throw TestFailure("sha256sum \(path) failed")
        }
        return String(digest)
    }

    static func fileSize(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    /// The cache directory's files, sorted.
    static func cached(_ cache: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache + "/bpfleet/btf")) ?? []).sorted()
    }

    @Test func rawBTFIsTheKernelsByteForByteAndComesFromTheCacheTheSecondTime() async throws {
        let files = try temporaryDirectory("btf-raw")
        defer { try? FileManager.default.removeItem(atPath: files) }
        var environment = CommandEnvironment.isolated()
        environment["XDG_CACHE_HOME"] = files + "/cache"
        let sha = try Self.sha256(Self.vmlinux)
        let size = try Self.fileSize(Self.vmlinux)
        try await withServer { server in
            let node = ["-n", server.address]
            // In 1 MiB chunks, so that paging is exercised.
            let chunk = 1 << 20
            let chunks = (size + chunk - 1) / chunk
            let first = try bpfleet(node + ["node", "btf", "--raw", "--chunk-bytes", String(chunk), "-o", files + "/vmlinux.btf"],
                                    environment: environment)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout == "")
            #expect(first.stderr == "bpfleet: \(server.address): vmlinux BTF sha256:\(sha): wrote \(size) bytes of raw BTF to \(files)/vmlinux.btf, fetched in \(chunks) chunks\n")
            #expect(FileManager.default.contents(atPath: files + "/vmlinux.btf") == FileManager.default.contents(atPath: Self.vmlinux))
            #expect(try Self.sha256(files + "/vmlinux.btf") == sha)
            #expect(Self.cached(files + "/cache") == ["\(sha).btf"])

            // The second time: the hash alone from the node, the bytes from the cache.
            let second = try bpfleet(node + ["node", "btf", "--raw", "--output", files + "/again.btf"], environment: environment)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stderr == "bpfleet: \(server.address): vmlinux BTF sha256:\(sha): wrote \(size) bytes of raw BTF to \(files)/again.btf, from the cache\n")
            #expect(FileManager.default.contents(atPath: files + "/again.btf") == FileManager.default.contents(atPath: Self.vmlinux))

            // A cached raw file that no longer hashes right is fetched again (and mended).
            try createFile(files + "/cache/bpfleet/btf/\(sha).btf", contents: Data("not btf".utf8))
            let mended = try bpfleet(node + ["node", "btf", "--raw", "--output=\(files)/mended.btf"], environment: environment)
            #expect(mended.status == 0, "\(mended.stderr)")
            let defaultChunks = (size + NodeBTF.defaultMaxBytes - 1) / NodeBTF.defaultMaxBytes
            #expect(mended.stderr == "bpfleet: \(server.address): vmlinux BTF sha256:\(sha): wrote \(size) bytes of raw BTF to \(files)/mended.btf, fetched in \(defaultChunks) chunks\n")
            #expect(try Self.sha256(files + "/mended.btf") == sha)
            #expect(try Self.sha256(files + "/cache/bpfleet/btf/\(sha).btf") == sha)
            // Atomic writes leave no temporary file behind.
            #expect(Self.cached(files + "/cache") == ["\(sha).btf"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: files).sorted() == ["again.btf", "cache", "mended.btf", "vmlinux.btf"])
        }
    }

    @Test func theHeaderIsBpftoolsAndACORE_ProgramBuiltOnItLoads() async throws {
        let files = try temporaryDirectory("btf-header")
        defer { try? FileManager.default.removeItem(atPath: files) }
        var environment = CommandEnvironment.isolated()
        environment["XDG_CACHE_HOME"] = files + "/cache"
        let sha = try Self.sha256(Self.vmlinux)
        try await withServer { server in
            let node = ["-n", server.address]
            let fetched = try bpfleet(node + ["node", "btf", "-o", files + "/vmlinux.h"], environment: environment)
            #expect(fetched.status == 0, "\(fetched.stderr)")
            let header = try #require(FileManager.default.contents(atPath: files + "/vmlinux.h"))
            #expect(fetched.stderr == "bpfleet: \(server.address): vmlinux BTF sha256:\(sha): wrote \(header.count) bytes of C header to \(files)/vmlinux.h, fetched in 1 chunk\n")

            // bpftool's, but for what the two libbpfs' btf_dump write
            // differently (docs/btf.md): `()` for `(void)` and a one-byte
            // enum's `mode(byte)`.
            let bpftool = try run("/usr/sbin/bpftool", ["btf", "dump", "file", Self.vmlinux, "format", "c"])
            #expect(bpftool.status == 0)
            let theirs = String(decoding: bpftool.stdout, as: UTF8.self).replacingOccurrences(of: "(void)", with: "()")
            let ours = String(decoding: header, as: UTF8.self).replacingOccurrences(of: "} __attribute__((mode(byte)));\n", with: "};\n")
            #expect(ours == theirs)
            #expect(ours.hasPrefix("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n"))
            #expect(ours.hasSuffix("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n"))

            // Again: from the cache, the same bytes.
            let again = try bpfleet(node + ["node", "btf", "-o", files + "/again.h"], environment: environment)
            #expect(again.stderr == "bpfleet: \(server.address): vmlinux BTF sha256:\(sha): wrote \(header.count) bytes of C header to \(files)/again.h, from the cache\n")
            #expect(FileManager.default.contents(atPath: files + "/again.h") == header)
            #expect(Self.cached(files + "/cache") == ["\(sha).h"])
            // Without -o: standard output.
            let printed = try bpfleet(node + ["node", "btf"], environment: environment)
            #expect(printed.stderr == "bpfleet: \(server.address): vmlinux BTF sha256:\(sha): wrote \(header.count) bytes of C header to standard output, from the cache\n")
            #expect(Data(printed.stdout.utf8) == header)

            // A CO-RE program on the header: a tracepoint counting this
            // process's getppid calls, reading the task's tgid with BPF_CORE_READ.
            let source = """
                #include "vmlinux.h"
                #include <bpf/bpf_helpers.h>
                #include <bpf/bpf_core_read.h>

                struct {
                	__uint(type, BPF_MAP_TYPE_ARRAY);
                	__uint(max_entries, 1);
                	__type(key, __u32);
                	__type(value, __u64);
                } calls SEC(".maps");

                const volatile int target_tgid = 0;

                SEC("tracepoint/syscalls/sys_enter_getppid")
                int count_getppid(struct trace_event_raw_sys_enter *ctx)
                {
                	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
                	__u32 key = 0;
                	__u64 *value;

                	if (BPF_CORE_READ(task, tgid) != target_tgid)
                		return 0;
                	value = bpf_map_lookup_elem(&calls, &key);
                	if (value)
                		__sync_fetch_and_add(value, 1);
                	return 0;
                }

                char LICENSE[] SEC("license") = "GPL";

                """
            try createFile(files + "/core.bpf.c", contents: Data(source.utf8))
            let compiled = try run("/opt/swift/usr/bin/clang", [
                "-g", "-O2", "-target", "bpf", "-Wall", "-Werror", "-I" + files, "-I/usr/include/\(machine())-linux-gnu",
                "-c", files + "/core.bpf.c", "-o", files + "/core.bpf.o",
            ])
            #expect(compiled.status == 0, "\(String(decoding: compiled.stderr, as: UTF8.self))")

            let loaded = try bpfleet(node + ["probe", "load", files + "/core.bpf.o", "--name", "core", "--global", "target_tgid=\(getpid())"])
            #expect(loaded.status == 0, "\(loaded.stderr)")
            let client = try server.client()
            try client.call("probe.attach", ["probe": "core", "program": "count_getppid", "target": ["type": "auto"]])
            for _ in 0..<7 { _ = getppid() }
            #expect(try client.counter("core", "calls", 0) == 7)
            let programID = try #require(client.call("probe.get", ["probe": "core"])["programs"]?.arrayValue.first?["id"]?.uint64Value).asUInt32

            let unloaded = try bpfleet(node + ["probe", "unload", "core"])
            #expect(unloaded.status == 0, "\(unloaded.stderr)")
            #expect(try Bpftool.isGone("prog", id: programID))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func badParamsAreRefusedNamingTheField() async throws {
        let size = try Self.fileSize(Self.vmlinux)
        try await withServer { server in
            let client = try server.client()
            func refusal(_ params: JSONValue) throws -> ResponseError { try client.callError("node.btf", params) }

            let dotted = try refusal(["module": "../x"])
            #expect(dotted == ResponseError(.invalidParams, "module: '../x' is not a module name (letters, digits, '_' and '-' only)",
                                            data: ["field": "module"]))
            let slashed = try refusal(["module": "a/b"])
            #expect(slashed == ResponseError(.invalidParams, "module: 'a/b' is not a module name (letters, digits, '_' and '-' only)",
                                             data: ["field": "module"]))
            let long = try refusal(["module": .string(String(repeating: "m", count: 65))])
            #expect(long == ResponseError(.invalidParams, "module: a module name is 1 to 64 characters", data: ["field": "module"]))
            let missing = try refusal(["module": "no_such_module_here"])
            #expect(missing == ResponseError(.notFound, "module 'no_such_module_here' not found",
                                             data: ["kind": "module", "name": "no_such_module_here"]))
            let negative = try refusal(["offset": -1])
            #expect(negative == ResponseError(.invalidParams, "offset: must not be negative", data: ["field": "offset"]))
            let past = try refusal(["offset": .int(Int64(size + 1))])
            #expect(past == ResponseError(.invalidParams, "offset: \(size + 1) is past the end of the \(size) bytes", data: ["field": "offset"]))
            let huge = try refusal(["offset": .double(1e300)])
            #expect(huge.code == .invalidParams && huge.data == ["field": "params.offset"], "\(huge)")
            let tooMuch = try refusal(["maxBytes": .int(Int64(NodeBTF.largestMaxBytes + 1))])
            #expect(tooMuch == ResponseError(.invalidParams, "maxBytes: 0 to 8388608 bytes", data: ["field": "maxBytes"]))
            let format = try refusal(["format": "json"])
            #expect(format == ResponseError(.invalidParams, "format: 'json' is not raw or c", data: ["field": "format"]))

            // At the end: an empty last chunk. maxBytes 0: the hash and size alone.
            let end = try client.call("node.btf", ["offset": .int(Int64(size))])
            #expect(end["data"] == "" && end["done"] == true && end["totalBytes"] == .int(Int64(size)))
            let hashOnly = try client.call("node.btf", ["maxBytes": 0])
            #expect(hashOnly["data"] == "" && hashOnly["done"] == false && hashOnly["offset"] == 0)
            #expect(hashOnly["sha256"]?.stringValue == (try Self.sha256(Self.vmlinux)))
            #expect(hashOnly["kernelRelease"]?.stringValue == Self.release())
            // The last chunk of the header, paged from the server's cache.
            let head = try client.call("node.btf", ["format": "c", "maxBytes": 64])
            let total = try #require(head["totalBytes"]?.int64Value)
            let tail = try client.call("node.btf", ["format": "c", "offset": .int(total - 10)])
            #expect(tail["data"]?.stringValue.flatMap { Data(base64Encoded: $0) } == Data("LINUX_H__ */\n".utf8.suffix(10)))
            #expect(tail["done"] == true)
        }
    }

    @Test func aViewerMayFetchTheTypes() async throws {
        let files = try temporaryDirectory("btf-viewer")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let viewer: UInt32 = 54_331
        try "root: operator\nviewers:\n  uids: [\(viewer)]\n".write(toFile: files + "/roles.yaml", atomically: true, encoding: .utf8)
        let sha = try Self.sha256(Self.vmlinux)
        try await withServer(["--roles", files + "/roles.yaml", "--socket-group", String(viewer)]) { server in
            let asRoot = try bpfleet(["-n", server.address, "node", "btf", "--no-cache", "-o", files + "/vmlinux.h"])
            #expect(asRoot.status == 0, "\(asRoot.stderr)")
            let header = try #require(FileManager.default.contents(atPath: files + "/vmlinux.h"))
            // As the viewer, to standard output, with no cache (HOME is /tmp).
            let run = try bpfleet(["-n", server.address, "node", "btf", "--no-cache"], as: viewer)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr == "bpfleet: \(server.address): vmlinux BTF sha256:\(sha): wrote \(header.count) bytes of C header to standard output, fetched in 1 chunk\n")
            #expect(Data(run.stdout.utf8) == header)
            #expect(!FileManager.default.fileExists(atPath: "/tmp/.cache/bpfleet/btf/\(sha).h"))
        }
    }

    static func release() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// `uname -m`.
private func machine() -> String {
    var name = utsname()
    uname(&name)
    return withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}

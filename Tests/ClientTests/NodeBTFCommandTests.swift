@testable import BpfleetClient
import Foundation
import TestSupport
import Testing

/// `bpfleet node btf`: its -o, its cache's names and places, and what a
/// cached file must be to be used.
struct NodeBTFCommandTests {
    @Test func minusOAfterNodeBTFIsTheFileAndElsewhereTheFormat() {
        #expect(NodeBTFCommand.outputFileArguments(["-n", "a", "node", "btf", "-o", "vmlinux.h"])
            == ["-n", "a", "node", "btf", "--output-file", "vmlinux.h"])
        #expect(NodeBTFCommand.outputFileArguments(["-o", "json", "node", "btf", "--output", "x.h", "--raw"])
            == ["-o", "json", "node", "btf", "--output-file", "x.h", "--raw"])
        #expect(NodeBTFCommand.outputFileArguments(["node", "btf", "--output=x.btf"]) == ["node", "btf", "--output-file=x.btf"])
        #expect(NodeBTFCommand.outputFileArguments(["node", "info", "-o", "json"]) == ["node", "info", "-o", "json"])
        #expect(NodeBTFCommand.outputFileArguments(["-o", "json", "probe", "list"]) == ["-o", "json", "probe", "list"])
        #expect(NodeBTFCommand.outputFileArguments(["node"]) == ["node"])
    }

    @Test func theCacheLivesUnderXDGCacheHomeElseHome() {
        #expect(BTFCache.directory(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]) == "/c/bpfleet/btf")
        #expect(BTFCache.directory(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"]) == "/h/.cache/bpfleet/btf")
        #expect(BTFCache.directory(environment: ["HOME": "/h"]) == "/h/.cache/bpfleet/btf")
        #expect(BTFCache.directory(environment: [:]) == nil)
        let sha = String(repeating: "a", count: 64), base = String(repeating: "b", count: 64)
        #expect(BTFCache.fileName(sha256: sha, baseSha256: nil, module: nil, format: "c") == "\(sha).h")
        #expect(BTFCache.fileName(sha256: sha, baseSha256: nil, module: nil, format: "raw") == "\(sha).btf")
        #expect(BTFCache.fileName(sha256: sha, baseSha256: base, module: "xfs", format: "c") == "\(sha)-\(base).xfs.h")
    }

    @Test func aCachedRawFileIsUsedOnlyWhenItHashesRight() throws {
        let directory = try temporaryDirectory("btf-cache")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = BTFCache(directory: directory + "/bpfleet/btf")
        let bytes: [UInt8] = Array("some btf".utf8)
        let sha = BTFCache.sha256(bytes)
        #expect(sha == "6df55ed78f16a963b1782e820ee01d72166c881eb929d25798f471351b509784")
        #expect(cache.read("\(sha).btf", rawSha256: sha, largest: 100) == nil)
        try cache.write("\(sha).btf", bytes)
        #expect(cache.read("\(sha).btf", rawSha256: sha, largest: 100) == bytes)
        #expect(cache.read("\(sha).btf", rawSha256: sha, largest: 4) == nil)
        try cache.write("\(sha).btf", Array("other".utf8))
        #expect(cache.read("\(sha).btf", rawSha256: sha, largest: 100) == nil)
        // A header is not hashed (its name is its BTF's hash).
        try cache.write("\(sha).h", Array("#define X\n".utf8))
        #expect(cache.read("\(sha).h", rawSha256: nil, largest: 100) == Array("#define X\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/bpfleet/btf").sorted() == ["\(sha).btf", "\(sha).h"])
        let mode = try #require(FileManager.default.attributesOfItem(atPath: directory + "/bpfleet/btf")[.posixPermissions] as? Int)
        #expect(mode == 0o700)
    }
}

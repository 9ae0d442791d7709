import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Objects the `object` fuzz target found crashing libbpf 1.1 itself, in
/// `bpf_object__open_mem` (Tests/FuzzSeeds/object-libbpf-crashes/,
/// docs/fuzzing.md): they cannot be replayed in process, so each is
/// uploaded to a real bpfleetd, where it kills the object helper and costs
/// that upload alone.
@Suite(.requiresKernel)
struct LibbpfCrashSeedTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzSeeds/object-libbpf-crashes").path

    static var seeds: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    @Test func thereAreSeeds() {
        #expect(!Self.seeds.isEmpty)
    }

    @Test func eachCostsItsUploadAlone() async throws {
        try await withServer { server in
            let client = try server.client()
            let before = try client.call("object.list")
            for seed in Self.seeds {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + seed))
                let error = try client.callError("object.upload", ["data": .string(bytes.base64EncodedString()), "name": .string(seed)])
                #expect(error.code == .invalidObject, "\(seed): \(error)")
                #expect(error.message == "the object helper died of signal 11 (SIGSEGV) while describing the object", "\(seed)")
                #expect(try client.call("node.info")["serverVersion"] != nil)
            }
            #expect(try client.call("object.list") == before)
            // A fresh helper describes a good object after them.
            let described = try client.call("object.upload", ["data": .string(try TestEnvironment.program("exec_count").base64EncodedString()),
                                                              "name": "after"])
            #expect(described["programs"]?.arrayValue.first?["name"] == "count_exec")
        }
    }
}

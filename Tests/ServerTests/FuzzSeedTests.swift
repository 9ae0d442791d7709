import BpfleetServer
import Foundation
import Testing

/// A kept fuzz input (Tests/FuzzSeeds/<target>/<name>): a real input the
/// fuzzer started from, or one that once crashed its target.
struct FuzzSeed: Sendable, CustomTestStringConvertible {
    var target: String
    var name: String
    var path: String
    var testDescription: String { "\(target)/\(name)" }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzSeeds").path

    /// Every seed of `target`, by name.
    static func all(_ target: String) -> [FuzzSeed] {
        let directory = root + "/" + target
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().map { FuzzSeed(target: target, name: $0, path: directory + "/" + $0) }
    }

    /// Runs `body` over the seed's bytes.
    func replay(_ body: (UnsafeRawBufferPointer) -> Void) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        data.withUnsafeBytes(body)
    }
}

/// Every kept input replayed through the fuzz target it was found by
/// (docs/fuzzing.md): each returns, so each crash found stays fixed.
/// (Tests/FuzzSeeds/object-libbpf-crashes/ is not replayed here: those
/// crash inside libbpf itself.)
@Suite("fuzz seeds, replayed")
struct FuzzSeedTests {
    @Test("every server target has seeds", arguments: ["jsonrpc", "roles", "policy", "values", "btf", "object", "usdt", "symbols"])
    func seedsExist(_ target: String) {
        #expect(FuzzSeed.all(target).count >= 3)
    }

    @Test("jsonrpc", arguments: FuzzSeed.all("jsonrpc"))
    func jsonrpc(_ seed: FuzzSeed) throws {
        try seed.replay(ServerFuzzTargets.jsonrpc)
    }

    @Test("roles", arguments: FuzzSeed.all("roles"))
    func roles(_ seed: FuzzSeed) throws {
        try seed.replay(ServerFuzzTargets.roles)
    }

    @Test("policy", arguments: FuzzSeed.all("policy"))
    func policy(_ seed: FuzzSeed) throws {
        try seed.replay(ServerFuzzTargets.policy)
    }

    @Test("values", arguments: FuzzSeed.all("values"))
    func values(_ seed: FuzzSeed) throws {
        try seed.replay(ServerFuzzTargets.values)
    }

    @Test("btf", arguments: FuzzSeed.all("btf"))
    func btf(_ seed: FuzzSeed) throws {
        try seed.replay(ServerFuzzTargets.btf)
    }

    @Test("object", arguments: FuzzSeed.all("object"))
    func object(_ seed: FuzzSeed) throws {
        try seed.replay(ServerFuzzTargets.object)
    }

    @Test("symbols", arguments: FuzzSeed.all("symbols"))
    func symbols(_ seed: FuzzSeed) throws {
        try seed.replay(ServerFuzzTargets.symbols)
    }

    @Test("usdt", arguments: FuzzSeed.all("usdt"))
    func usdt(_ seed: FuzzSeed) throws {
        try seed.replay(ServerFuzzTargets.usdt)
    }
}

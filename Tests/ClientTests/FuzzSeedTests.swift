import BpfleetClient
import Foundation
import Testing

/// The manifest fuzz target's kept inputs (Tests/FuzzSeeds/manifest/),
/// replayed (docs/fuzzing.md): each returns, so each crash found stays fixed.
@Suite("fuzz seeds, replayed")
struct FuzzSeedTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzSeeds/manifest").path

    static var seeds: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    @Test("the manifest target has seeds")
    func seedsExist() {
        #expect(Self.seeds.count >= 3)
    }

    @Test("manifest", arguments: seeds)
    func manifest(_ name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + name))
        data.withUnsafeBytes(ClientFuzzTargets.manifest)
    }
}

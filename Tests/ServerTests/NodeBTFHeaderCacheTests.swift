@testable import BpfleetServer
import Testing

/// The server's cache of the C headers it made: paging one header makes it
/// once; it holds the last two.
struct NodeBTFHeaderCacheTests {
    static func source(_ sha: String, module: String? = nil) -> BTFSource {
        BTFSource(module: module, raw: [1, 2, 3], sha256: sha, base: module == nil ? nil : .init(raw: [4], sha256: "base"))
    }

    final class Counter: @unchecked Sendable {
        var made: [String] = []
    }

    @Test func aHeaderIsMadeOnceAndTheOldestOfThreeIsForgotten() async throws {
        let cache = HeaderCache(capacity: 2)
        let counter = Counter()
        func header(_ source: BTFSource) async throws -> [UInt8] {
            try await cache.header(for: source) {
                counter.made.append(source.key)
                return Array(source.key.utf8)
            }
        }
        let a = Self.source("a"), b = Self.source("b"), c = Self.source("c")
        #expect(try await header(a) == Array(a.key.utf8))
        #expect(try await header(a) == Array(a.key.utf8))
        #expect(try await header(b) == Array(b.key.utf8))
        #expect(counter.made == [a.key, b.key])
        // The same hash of a module is another header.
        let module = Self.source("a", module: "xfs")
        #expect(module.key == "xfs/a/base")
        _ = try await header(module)
        _ = try await header(c)
        #expect(counter.made == [a.key, b.key, module.key, c.key])
        // a and b were pushed out; module and c are kept.
        _ = try await header(c)
        _ = try await header(module)
        _ = try await header(a)
        #expect(counter.made == [a.key, b.key, module.key, c.key, a.key])
    }

    @Test func aFailureToMakeOneIsNotKept() async throws {
        let cache = HeaderCache(capacity: 2)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await cache.header(for: Self.source("x")) { throw Refused() } }
        #expect(try await cache.header(for: Self.source("x")) { [9] } == [9])
    }
}

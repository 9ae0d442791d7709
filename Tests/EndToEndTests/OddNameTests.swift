import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Maps whose names bpffs refuses (`.rodata.str1.1`, `.rodata.cst16`: the
/// sections compilers make for literals) and names longer than the
/// kernel's: the object loads, pins under escaped names, counts exactly,
/// survives a kill -9 and a pin wipe, and unloads clean (odd_names).
@Suite(.requiresKernel)
struct OddNameTests {
    static let escaped = [
        ".rodata": "_rodata", ".rodata.cst16": "_rodata%2Ecst16", ".rodata.str1.1": "_rodata%2Estr1%2E1",
        "tagged_execs_with_a_long_name": "tagged_execs_with_a_long_name",
    ]

    func tag(_ client: LineClient) throws -> JSONValue? {
        let entries = try client.call("map.snapshot", ["map": ["probe": "odd", "name": "tagged_execs_with_a_long_name"]])["entries"]
        return entries?.arrayValue.first?["value"]
    }

    func expectedTag(count: Int) -> JSONValue {
        ["label": "first-label", "constant": [.int(0x1122_3344_5566_7788), .uint(0x99aa_bbcc_ddee_ff00)], "count": .int(Int64(count))]
    }

    /// Each map's kernel id, checked to exist, and its pin as escaped.
    func checkMaps(_ probe: JSONValue, _ server: ServerProcess) throws -> [UInt32] {
        var ids: [UInt32] = []
        let maps = probe["maps"]?.arrayValue ?? []
        #expect(Set(maps.compactMap { $0["name"]?.stringValue }) == Set(Self.escaped.keys))
        for map in maps {
            let name = try #require(map["name"]?.stringValue)
            #expect(map["pinPath"]?.stringValue?.hasSuffix("/odd/maps/\(Self.escaped[name] ?? "?")") == true, "\(name)")
            let id = try #require(map["id"]?.uint64Value).asUInt32
            #expect(try Bpftool.exists("map", id: id))
            ids.append(id)
        }
        #expect(Set(server.pins().filter { $0.hasPrefix("odd/maps/") }) == Set(Self.escaped.values.map { "odd/maps/\($0)" }))
        #expect(server.pins().contains("odd/programs/tag_execs_with_literal_strings"))
        return ids
    }

    @Test func mapsNamedForLiteralsPinUnderEscapedNamesAndSurviveAKillAndAPinWipe() async throws {
        try await withServer { server in
            var client = try server.client()
            let binary = try Workload.uniqueBinary()
            defer { binary.cleanup() }
            let loaded = try client.call("probe.load", [
                "name": "odd", "objectId": .string(try client.upload("odd_names")),
                "globals": ["target_comm": .string(binary.comm)],
                "attach": [["program": "tag_execs_with_literal_strings", "target": ["type": "auto"]]],
            ])
            let firstIDs = try checkMaps(loaded, server)
            try Workload.exec(binary.path, times: 4)
            #expect(try tag(client) == expectedTag(count: 4))

            server.terminate(signal: SIGKILL)
            try server.restart()
            client = try server.client()
            let adopted = try client.call("probe.get", ["probe": "odd"])
            #expect(adopted["origin"] == "adopted")
            #expect(adopted["state"] == "running")
            #expect(Set(try checkMaps(adopted, server)) == Set(firstIDs))
            try Workload.exec(binary.path, times: 2)
            #expect(try tag(client) == expectedTag(count: 6))

            server.terminate(signal: SIGKILL)
            server.removePins()
            for id in firstIDs { #expect(try Bpftool.isGone("map", id: id)) }
            try server.restart()
            client = try server.client()
            let restored = try client.call("probe.get", ["probe": "odd"])
            #expect(restored["origin"] == "restored")
            #expect(restored["state"] == "running")
            let restoredIDs = try checkMaps(restored, server)
            #expect(Set(restoredIDs).isDisjoint(with: firstIDs))
            try Workload.exec(binary.path, times: 3)
            #expect(try tag(client) == expectedTag(count: 3))

            try client.call("probe.unload", ["probe": "odd"])
            for id in restoredIDs { #expect(try Bpftool.isGone("map", id: id)) }
            #expect(server.pins() == [])
        }
    }
}

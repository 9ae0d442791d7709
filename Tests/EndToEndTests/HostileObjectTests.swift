import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Objects corrupted as an attacker would corrupt them, each class of
/// corruption once: each gets its precise error, the server answers right
/// after, and nothing is left in the kernel, the pin root or the state
/// directory.
@Suite(.requiresKernel)
struct HostileObjectTests {
    struct NodeState: Equatable {
        var probes: JSONValue
        var objects: JSONValue
        var pins: [String]
        var storedFiles: [String]
        var descriptors: Int
    }

    func state(_ server: ServerProcess, _ client: LineClient) throws -> NodeState {
        NodeState(probes: try client.call("probe.list"), objects: try client.call("object.list"), pins: server.pins(),
                  storedFiles: try FileManager.default.contentsOfDirectory(atPath: server.stateDirectory + "/objects").sorted(),
                  descriptors: server.openDescriptors())
    }

    /// Uploads `object`, expects -32005 with `message` in the error, then
    /// checks that the node answers and is exactly as it was.
    func expectRefused(_ object: HostileObject, _ message: String, _ server: ServerProcess, _ client: LineClient,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try state(server, client)
        let error = try client.callError("object.upload", ["data": .string(object.base64), "name": "hostile"])
        #expect(error.code == .invalidObject, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(message), "\(error.message)", sourceLocation: sourceLocation)
        #expect(try client.call("node.info")["serverVersion"] != nil, sourceLocation: sourceLocation)
        let after = try state(server, client)
        #expect(after == before, "before: \(before)\nafter: \(after)\nfds now: \(server.descriptorNames())", sourceLocation: sourceLocation)
    }

    static func fixture() throws -> HostileObject {
        HostileObject(try TestEnvironment.program("btf_shapes"))
    }

    @Test func theFixtureItselfLoads() async throws {
        // The corruptions below are the only reason their copies are refused.
        try await withServer { server in
            let client = try server.client()
            let loaded = try client.load("btf_shapes", as: "shapes")
            #expect(loaded["programs"]?.arrayValue.count == 1)
            let globals = try client.call("object.get", ["objectId": .string(try client.upload("btf_shapes"))])["globals"]
            #expect(globals?.arrayValue.compactMap { $0["type"]?.stringValue } == ["struct shape_pair", "struct shape_node", "__u64 * *"])
            try client.call("probe.unload", ["probe": "shapes"])
        }
    }

    @Test func nameOffsetsOutsideTheStringSection() async throws {
        try await withServer { server in
            let client = try server.client()
            var memberName = try Self.fixture()
            let leaf = try memberName.record(kind: HostileObject.structure, named: "shape_leaf")
            memberName.set(leaf.memberNameWord(0), to: 0xFFFF_FF00)
            try expectRefused(memberName, "malformed BTF: BTF type \(leaf.id): member 0's name is at offset 4294967040, outside the string section",
                              server, client)

            var typeName = try Self.fixture()
            typeName.set(leaf.offset, to: 0x7FFF_0000)
            try expectRefused(typeName, "malformed BTF: BTF type \(leaf.id): name is at offset 2147418112, outside the string section",
                              server, client)
        }
    }

    @Test func pointerCycles() async throws {
        try await withServer { server in
            let client = try server.client()
            // pointer_global is `__u64 **`: a pointer (outer) to a pointer (inner).
            var selfPointing = try Self.fixture()
            let variable = try selfPointing.record(kind: HostileObject.variable, named: "pointer_global")
            let outer = try selfPointing.record(id: selfPointing.referenced(by: variable))
            let inner = try selfPointing.record(id: selfPointing.referenced(by: outer))
            #expect(outer.kind == HostileObject.pointer && inner.kind == HostileObject.pointer)
            selfPointing.set(inner.typeWord, to: inner.id)
            try expectRefused(selfPointing, "malformed BTF: BTF type \(inner.id): refers to itself through pointers and qualifiers alone (\(inner.id) -> \(inner.id))",
                              server, client)

            var twoPointers = try Self.fixture()
            twoPointers.set(inner.typeWord, to: outer.id)
            try expectRefused(twoPointers, "malformed BTF: BTF type \(outer.id): refers to itself through pointers and qualifiers alone (\(outer.id) -> \(inner.id) -> \(outer.id))",
                              server, client)
        }
    }

    @Test func structsThatContainThemselves() async throws {
        try await withServer { server in
            let client = try server.client()
            // shape_node's `next` becomes a shape_node by value.
            var node = try Self.fixture()
            let nodeRecord = try node.record(kind: HostileObject.structure, named: "shape_node")
            node.set(nodeRecord.memberTypeWord(0), to: nodeRecord.id)
            try expectRefused(node, "malformed BTF: BTF type \(nodeRecord.id): contains itself (\(nodeRecord.id) -> \(nodeRecord.id))",
                              server, client)

            // Both halves of shape_pair become shape_pairs: 2^depth work for
            // a reader that neither remembers nor detects cycles.
            var pair = try Self.fixture()
            let pairRecord = try pair.record(kind: HostileObject.structure, named: "shape_pair")
            pair.set(pairRecord.memberTypeWord(0), to: pairRecord.id)
            pair.set(pairRecord.memberTypeWord(1), to: pairRecord.id)
            try expectRefused(pair, "malformed BTF: BTF type \(pairRecord.id): contains itself (\(pairRecord.id) -> \(pairRecord.id))",
                              server, client)
        }
    }

    @Test func referencesPastTheLastType() async throws {
        try await withServer { server in
            let client = try server.client()
            var object = try Self.fixture()
            let leaf = try object.record(kind: HostileObject.structure, named: "shape_leaf")
            let last = try object.btfRecords().count
            object.set(leaf.memberTypeWord(1), to: 0x00FF_FFFF)
            try expectRefused(object, "malformed BTF: BTF type \(leaf.id): member 1 refers to type 16777215, past the last type (\(last))",
                              server, client)
        }
    }

    @Test func relocationsThatPointNowhere() async throws {
        try await withServer { server in
            let client = try server.client()
            // The program's relocations (Elf64_Rel: r_offset, then r_info
            // with the symbol index in its high 32 bits); the first one is
            // its reference to the map `shapes`.
            let relocations = try Self.fixture().section(prefixed: ".relraw_tracepoint")
            let first = relocations.range.lowerBound
            let section = relocations.name

            var symbol = try Self.fixture()
            symbol.set64(first + 8, to: 0xffff << 32 | (symbol.word64(at: first + 8) & 0xffff_ffff))
            try expectRefused(symbol, "not a valid BPF ELF object (E4001): sec '\(section)': symbol #65535 not found for relo #0", server, client)

            var past = try Self.fixture()
            past.set64(first, to: 0x7fff_fff8)
            try expectRefused(past, "not a valid BPF ELF object (E4001): sec '\(section)': invalid offset 0x7ffffff8 for relo #0", server, client)

            var between = try Self.fixture()
            let offset = between.word64(at: first) + 3
            between.set64(first, to: offset)
            try expectRefused(between, "not a valid BPF ELF object (E4001): sec '\(section)': invalid offset 0x\(String(offset, radix: 16)) for relo #0",
                              server, client)
        }
    }

    @Test func truncatedObjects() async throws {
        try await withServer { server in
            let client = try server.client()
            let whole = try Self.fixture().bytes
            for length in [1, 16, 63, 64, whole.count / 4, whole.count / 2, whole.count - 64, whole.count - 1] {
                var cut = try Self.fixture()
                cut.bytes = Array(whole.prefix(length))
                // libelf's own words for what is missing follow this.
                try expectRefused(cut, "not a valid BPF ELF object (E400", server, client)
            }
        }
    }
}

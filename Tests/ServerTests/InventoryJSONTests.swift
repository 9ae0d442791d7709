@testable import BpfleetServer
import BpfleetShared
import Foundation
import NIOCore
import Testing

/// The inventory answers are written by hand for speed: byte for byte what
/// JSONEncoder.wire() makes of the same values (keys sorted, absent
/// optionals left out, strings escaped alike).
@Suite("Inventory JSON")
struct InventoryJSONTests {
    static let odd = "quote\" back\\slash /slash\n\t\u{1}\u{1f}é€😀"

    static let programs: [KernelProgram] = [
        NodePrograms.exampleResult.programs[0],
        KernelProgram(id: 4_294_967_295, type: odd, name: "", tag: "0000000000000000", loadedAt: Date(timeIntervalSince1970: 0), uid: 4_294_967_295,
                      btfId: nil, mapIds: [], linkIds: [1, 2, 3], attachPoints: [odd, ""], instructions: 0, verifiedInstructions: 0,
                      jitedBytes: 0, runCount: UInt64.max, runTimeNs: 0, owner: nil, holders: nil),
        KernelProgram(id: 7, type: "xdp", name: odd, tag: "ab", loadedAt: Date(timeIntervalSince1970: 1_796_000_000.9), uid: 1000, btfId: 1,
                      mapIds: [9], linkIds: [], attachPoints: [], instructions: 1, verifiedInstructions: 2, jitedBytes: 3,
                      runCount: 0, runTimeNs: 5, owner: ProbeOwner(probe: odd, name: odd), holders: [ObjectHolder(pid: Int32.max, comm: odd)]),
    ]

    static let maps: [KernelMap] = [
        NodeMaps.exampleResult.maps[0],
        KernelMap(id: 1, type: odd, name: odd, keySize: 0, valueSize: 4_294_967_295, maxEntries: 1, flags: 4_294_967_295, btfId: nil,
                  keyType: odd, valueType: nil, programIds: [], owner: nil, holders: []),
    ]

    static let links: [KernelLink] = [
        NodeLinks.exampleResult.links[0],
        KernelLink(id: 2, type: "tcx", programId: 3, attachType: "tcx_ingress", attachPoint: odd, owner: ProbeOwner(probe: "p", linkId: Int(Int32.max)),
                   holders: nil),
        KernelLink(id: 3, type: odd, programId: 0, attachType: nil, attachPoint: "", owner: nil, holders: [ObjectHolder(pid: 1, comm: "")]),
    ]

    func encoded(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder.wire().encode(value), as: UTF8.self)
    }

    func written(_ buffer: ByteBuffer) -> String {
        String(buffer: buffer)
    }

    @Test func programsAreTheEncodersBytes() throws {
        for truncated in [false, true] {
            let result = NodePrograms.Result(programs: Self.programs, truncated: truncated)
            #expect(written(result.wireBytes) == (try encoded(result)))
        }
        let empty = NodePrograms.Result(programs: [], truncated: false)
        #expect(written(empty.wireBytes) == (try encoded(empty)))
    }

    @Test func mapsAreTheEncodersBytes() throws {
        let result = NodeMaps.Result(maps: Self.maps, truncated: true)
        #expect(written(result.wireBytes) == (try encoded(result)))
    }

    @Test func linksAreTheEncodersBytes() throws {
        let result = NodeLinks.Result(links: Self.links, truncated: false)
        #expect(written(result.wireBytes) == (try encoded(result)))
    }
}
